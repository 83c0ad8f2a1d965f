//! SQL text that bypasses the store's queries and every rule above them: for tests that set
//! up or inspect data the product never writes itself, and for one-off operator tools. The
//! service never calls this module.

use crate::db::handle;
use crate::sql::{query, Row};
use crate::{Conn, Result, WriteTx};

/// One value of a raw result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(v) => Some(v),
            _ => None,
        }
    }
}

fn value(r: &dyn Row, i: usize) -> Result<Value> {
    if r.is_null(i)? {
        return Ok(Value::Null);
    }
    match r.int(i) {
        Ok(v) => Ok(Value::Int(v)),
        Err(_) => Ok(Value::Text(r.text(i)?)),
    }
}

/// Every row of `sql` (no bound values), each as its first `columns` values.
pub async fn rows(c: &mut Conn, sql: &str, columns: usize) -> Result<Vec<Vec<Value>>> {
    handle(c)
        .fetch_all(query(sql.to_owned()), move |r| {
            (0..columns).map(|i| value(r, i)).collect()
        })
        .await
}

/// Runs statements with no bound values inside a write transaction.
pub async fn execute(tx: &mut WriteTx, sql: &str) -> Result<()> {
    handle(tx).batch(sql.to_owned()).await
}
