//! The store's one query layer: a statement is written once, with `$1`, `$2`, ... for its
//! values, and runs on either database. On SQLite it runs through rusqlite where it is called
//! (the statement, its values and the decoding of its rows together); a read that runs long
//! is stopped and run again on a blocking thread (`INLINE_READ_STEPS` in db.rs). On PostgreSQL it runs through sqlx's typed
//! `PgConnection`. Rows are read through [`Row`], so each record has one decoder for both
//! databases.

use std::borrow::Cow;
use std::rc::Rc;

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgConnection, Postgres};

use crate::{Result, StoreError};

/// One value bound to a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
    /// A NULL where an integer would go (PostgreSQL wants the type even of a NULL).
    NullInt,
    NullText,
    /// A list of ids: `rarray($n)` on SQLite, `ANY($n)` on PostgreSQL.
    Ids(Vec<i64>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}

impl From<bool> for Arg {
    /// Flags are stored as 0 and 1 on both databases (one schema for both).
    fn from(v: bool) -> Arg {
        Arg::Int(v as i64)
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        v.map_or(Arg::NullInt, Arg::Int)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_owned())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(v.clone())
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        v.map_or(Arg::NullText, Arg::from)
    }
}

impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Arg {
        v.as_deref().into()
    }
}

/// A statement and its values, numbered `$1`, `$2`, ... in the order they are bound.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

/// Starts a statement; bind its values in the order of their numbers.
pub(crate) fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl Query {
    pub(crate) fn bind(mut self, value: impl Into<Arg>) -> Query {
        self.args.push(value.into());
        self
    }

    pub(crate) fn push(&mut self, value: impl Into<Arg>) {
        self.args.push(value.into());
    }

    /// Sets the text of a statement whose values were bound first (bulk statements, whose
    /// text depends on how many rows they carry).
    pub(crate) fn set_sql(&mut self, sql: impl Into<Cow<'static, str>>) {
        self.sql = sql.into();
    }
}

/// One result row, whichever database it came from. Columns are numbered from 0.
pub(crate) trait Row {
    fn int(&self, i: usize) -> Result<i64>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    /// Text borrowed from the row (no copy for values that are parsed, such as role codes).
    fn str(&self, i: usize) -> Result<&str>;
    fn opt_str(&self, i: usize) -> Result<Option<&str>>;

    fn text(&self, i: usize) -> Result<String> {
        Ok(self.str(i)?.to_owned())
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.opt_str(i)?.map(str::to_owned))
    }
    /// A 0/1 flag.
    fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.int(i)? != 0)
    }
    fn is_null(&self, i: usize) -> Result<bool>;
}

fn wrong_type(i: usize, want: &str, found: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("column {i}: expected {want}, found {found:?}"))
}

impl Row for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64> {
        match self.get_ref(i)? {
            rusqlite::types::ValueRef::Integer(v) => Ok(v),
            other => Err(wrong_type(i, "an integer", other.data_type())),
        }
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.get_ref(i)? {
            rusqlite::types::ValueRef::Null => Ok(None),
            rusqlite::types::ValueRef::Integer(v) => Ok(Some(v)),
            other => Err(wrong_type(i, "an integer or NULL", other.data_type())),
        }
    }
    fn str(&self, i: usize) -> Result<&str> {
        match self.get_ref(i)? {
            rusqlite::types::ValueRef::Text(b) => std::str::from_utf8(b)
                .map_err(|_| StoreError::Corrupt(format!("column {i}: text is not UTF-8"))),
            other => Err(wrong_type(i, "text", other.data_type())),
        }
    }
    fn opt_str(&self, i: usize) -> Result<Option<&str>> {
        if self.is_null(i)? {
            Ok(None)
        } else {
            self.str(i).map(Some)
        }
    }
    fn is_null(&self, i: usize) -> Result<bool> {
        Ok(matches!(self.get_ref(i)?, rusqlite::types::ValueRef::Null))
    }
}

impl Row for PgRow {
    fn int(&self, i: usize) -> Result<i64> {
        use sqlx::Row as _;
        // Columns are BIGINT; a literal (`SELECT 1`) is INTEGER.
        match self.try_get::<i64, _>(i) {
            Ok(v) => Ok(v),
            Err(sqlx::Error::ColumnDecode { .. }) => Ok(self.try_get::<i32, _>(i)?.into()),
            Err(e) => Err(e.into()),
        }
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        if self.is_null(i)? {
            Ok(None)
        } else {
            self.int(i).map(Some)
        }
    }
    fn str(&self, i: usize) -> Result<&str> {
        use sqlx::Row as _;
        Ok(self.try_get::<&str, _>(i)?)
    }
    fn opt_str(&self, i: usize) -> Result<Option<&str>> {
        use sqlx::Row as _;
        Ok(self.try_get::<Option<&str>, _>(i)?)
    }
    fn is_null(&self, i: usize) -> Result<bool> {
        use sqlx::{Row as _, ValueRef as _};
        Ok(self.try_get_raw(i)?.is_null())
    }
}

/// How a row becomes a record. It runs where the statement runs (on SQLite, perhaps twice: a
/// read stopped for running long is decoded again on a blocking thread).
pub(crate) trait Decode<T>: Fn(&dyn Row) -> Result<T> + Send + 'static {}
impl<T, F: Fn(&dyn Row) -> Result<T> + Send + 'static> Decode<T> for F {}

// ---- SQLite ---------------------------------------------------------------------------

/// Binds `args` to a prepared statement. SQLite numbers parameters by first appearance, not
/// by the number in `$N`, so each value is bound by its name; the name at position N is
/// checked first, since statements usually number their values in order.
fn bind_sqlite(st: &mut rusqlite::Statement<'_>, args: &[Arg]) -> Result<()> {
    if st.parameter_count() != args.len() {
        return Err(StoreError::Query(format!(
            "the statement has {} parameters but {} values were bound",
            st.parameter_count(),
            args.len()
        )));
    }
    // Plain `?` parameters (bulk statements, see `bulk.rs`) are bound by position.
    let positional = st.parameter_name(1).is_none();
    for (n, arg) in args.iter().enumerate() {
        let number = n + 1;
        let in_place = positional
            || st
                .parameter_name(number)
                .and_then(|name| name.strip_prefix('$'))
                .and_then(|digits| digits.parse::<usize>().ok())
                == Some(number);
        let at = if in_place {
            number
        } else {
            st.parameter_index(&format!("${number}"))?
                .ok_or_else(|| StoreError::Query(format!("the statement has no ${number}")))?
        };
        match arg {
            Arg::Int(v) => st.raw_bind_parameter(at, v)?,
            Arg::Text(s) => st.raw_bind_parameter(at, s.as_str())?,
            Arg::NullInt | Arg::NullText => st.raw_bind_parameter(at, rusqlite::types::Null)?,
            Arg::Ids(ids) => {
                let values: Vec<rusqlite::types::Value> = ids
                    .iter()
                    .map(|&id| rusqlite::types::Value::Integer(id))
                    .collect();
                st.raw_bind_parameter(at, Rc::new(values))?
            }
        }
    }
    Ok(())
}

/// Runs a statement on SQLite and decodes up to `max` rows.
pub(crate) fn sqlite_rows<T>(
    c: &rusqlite::Connection,
    q: &Query,
    max: usize,
    decode: &dyn Fn(&dyn Row) -> Result<T>,
) -> Result<Vec<T>> {
    let mut st = c.prepare_cached(&q.sql)?;
    bind_sqlite(&mut st, &q.args)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while out.len() < max {
        match rows.next()? {
            Some(r) => out.push(decode(r)?),
            None => break,
        }
    }
    Ok(out)
}

/// Runs a statement that returns no rows on SQLite; returns how many rows it changed.
pub(crate) fn sqlite_execute(c: &rusqlite::Connection, q: &Query) -> Result<u64> {
    let mut st = c.prepare_cached(&q.sql)?;
    bind_sqlite(&mut st, &q.args)?;
    Ok(st.raw_execute()? as u64)
}

// ---- PostgreSQL -----------------------------------------------------------------------

fn pg_query(q: &Query) -> sqlx::query::Query<'_, Postgres, PgArguments> {
    let mut x = sqlx::query(&q.sql);
    for arg in &q.args {
        x = match arg {
            Arg::Int(v) => x.bind(*v),
            Arg::Text(s) => x.bind(s.as_str()),
            Arg::NullInt => x.bind(None::<i64>),
            Arg::NullText => x.bind(None::<&str>),
            Arg::Ids(ids) => x.bind(ids.as_slice()),
        };
    }
    x
}

pub(crate) async fn pg_rows<T>(
    c: &mut PgConnection,
    q: &Query,
    max: usize,
    decode: impl Decode<T>,
) -> Result<Vec<T>> {
    if max == 1 {
        let row = pg_query(q).fetch_optional(c).await?;
        return row.map(|r| decode(&r)).into_iter().collect();
    }
    let rows = pg_query(q).fetch_all(c).await?;
    rows.iter().map(|r| decode(r)).collect()
}

pub(crate) async fn pg_execute(c: &mut PgConnection, q: &Query) -> Result<u64> {
    Ok(pg_query(q).execute(c).await?.rows_affected())
}
