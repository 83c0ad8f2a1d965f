//! The SCIM schemas roster serves (RFC 7643 §4 and §8.7.1), written once as data: discovery
//! renders these tables, and reading and projecting resources checks against them.
//!
//! Where we differ from the §8.7.1 listing, the row says so (`Deviation:`). In short:
//! Group `displayName` is required (§4.2 says REQUIRED, §8.7.1 says not), User `emails` and
//! `emails.value` are required (a User needs an email), Group `members` gains a read-only
//! `display` and `addresses` gains `primary` (both named in §4 and sent by identity
//! providers), and `x509Certificates.value` is case-exact (binary is, §2.3.6; erratum 6000).

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

/// Whether and how a client may change an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// When an attribute appears in a response (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// How unique a value must be (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl AttrKind {
    /// The wire name in schema documents ("dateTime", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AttrKind::String => "string",
            AttrKind::Boolean => "boolean",
            AttrKind::Decimal => "decimal",
            AttrKind::Integer => "integer",
            AttrKind::DateTime => "dateTime",
            AttrKind::Reference => "reference",
            AttrKind::Complex => "complex",
            AttrKind::Binary => "binary",
        }
    }
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7). Names keep the RFC's spelling; they are matched
/// case-insensitively (§2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: AttrKind,
    pub multi_valued: bool,
    /// Our own short wording, served in `/Schemas`.
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [Attribute],
}

/// A schema: its URN, its name and its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// The attribute named `name`, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        lookup(self.attributes, name)
    }
}

impl Attribute {
    /// The sub-attribute named `name`, case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        lookup(self.sub_attributes, name)
    }

    // Builders for the tables below: every attribute starts as the RFC's most common shape
    // (a single-valued, optional, case-insensitive, readWrite string returned by default).
    const fn new(name: &'static str, kind: AttrKind, description: &'static str) -> Self {
        Attribute {
            name,
            kind,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }
    const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }
    const fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }
    const fn refs(mut self, types: &'static [&'static str]) -> Self {
        self.reference_types = types;
        self
    }
    const fn subs(mut self, subs: &'static [Attribute]) -> Self {
        self.sub_attributes = subs;
        self
    }
}

fn lookup(attributes: &'static [Attribute], name: &str) -> Option<&'static Attribute> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

const fn string(name: &'static str, description: &'static str) -> Attribute {
    Attribute::new(name, AttrKind::String, description)
}
const fn boolean(name: &'static str, description: &'static str) -> Attribute {
    Attribute::new(name, AttrKind::Boolean, description)
}
const fn reference(name: &'static str, description: &'static str) -> Attribute {
    Attribute::new(name, AttrKind::Reference, description)
}
const fn complex(name: &'static str, description: &'static str) -> Attribute {
    Attribute::new(name, AttrKind::Complex, description)
}

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The `display`/`type`/`primary` trio most multi-valued User attributes share (§2.4).
const fn labelled(value: Attribute, type_values: &'static [&'static str]) -> [Attribute; 4] {
    [
        value,
        string("display", "A name for people to read."),
        string("type", "What this value is for.").canonical(type_values),
        boolean(
            "primary",
            "Whether this is the preferred value; at most one is.",
        ),
    ]
}

// Deviation: `emails` and `emails.value` are required (§8.7.1: not). A User needs an email
// to sign in with; a `userName` that is an email would do, but a schema cannot say "one of
// the two", and a client that reads /Schemas must learn that it has to send one.
static EMAIL_SUBS: [Attribute; 4] = labelled(
    string("value", "The email address.").required(),
    &["work", "home", "other"],
);
static PHONE_SUBS: [Attribute; 4] = labelled(
    string("value", "The phone number."),
    &["work", "home", "mobile", "fax", "pager", "other"],
);
static IM_SUBS: [Attribute; 4] = labelled(
    string("value", "The instant messaging address."),
    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
);
static PHOTO_SUBS: [Attribute; 4] = labelled(
    reference("value", "The URL of the photo.").refs(&["external"]),
    &["photo", "thumbnail"],
);
static ENTITLEMENT_SUBS: [Attribute; 4] = labelled(string("value", "The entitlement."), &[]);
static ROLE_SUBS: [Attribute; 4] = labelled(string("value", "The role."), &[]);
static CERTIFICATE_SUBS: [Attribute; 4] = labelled(
    // Deviation: caseExact true; binary values are case-exact (§2.3.6, erratum 6000).
    Attribute::new("value", AttrKind::Binary, "A base64 DER X.509 certificate.").case_exact(),
    &[],
);

static NAME_SUBS: [Attribute; 6] = [
    string("formatted", "The whole name, as it is displayed."),
    string("familyName", "The family (last) name."),
    string("givenName", "The given (first) name."),
    string("middleName", "The middle name or names."),
    string("honorificPrefix", "A title before the name, such as Ms."),
    string("honorificSuffix", "A suffix after the name, such as III."),
];

static ADDRESS_SUBS: [Attribute; 8] = [
    string("formatted", "The whole address, as it is displayed."),
    string("streetAddress", "The street, house number and the like."),
    string("locality", "The city or locality."),
    string("region", "The state or region."),
    string("postalCode", "The postal code."),
    string("country", "The country, as an ISO 3166-1 alpha-2 code."),
    string("type", "What this address is for.").canonical(&["work", "home", "other"]),
    // Deviation: §8.7.1 omits it; §4.1.2 and identity providers use it.
    boolean(
        "primary",
        "Whether this is the preferred address; at most one is.",
    ),
];

// RFC 7643 §8.7.1 marks every User `groups` sub-attribute readOnly: we derive membership from
// our groups, so a client changes it through /Groups only.
static GROUP_REF_SUBS: [Attribute; 4] = [
    string("value", "The id of the Group.").mutability(Mutability::ReadOnly),
    reference("$ref", "The URI of the Group.")
        .refs(&["User", "Group"])
        .mutability(Mutability::ReadOnly),
    string("display", "The name of the Group.").mutability(Mutability::ReadOnly),
    string(
        "type",
        "Whether membership is direct or through another Group.",
    )
    .canonical(&["direct", "indirect"])
    .mutability(Mutability::ReadOnly),
];

static USER_ATTRIBUTES: [Attribute; 21] = [
    // As §8.7.1: unique per server, compared case-insensitively (we keep email-like names).
    string("userName", "The unique name the person signs in with.")
        .required()
        .uniqueness(Uniqueness::Server),
    complex("name", "The parts of the person's name.").subs(&NAME_SUBS),
    string("displayName", "The name to show for the person."),
    string("nickName", "The casual name the person goes by."),
    reference("profileUrl", "A page about the person.").refs(&["external"]),
    string("title", "The person's job title."),
    string("userType", "How the person relates to the organization."),
    string("preferredLanguage", "The language the person prefers."),
    string("locale", "The locale for dates, numbers and currency."),
    string("timezone", "The person's time zone, by IANA name."),
    boolean("active", "Whether the account may be used."),
    // Accepted on write and dropped: roster keeps no password from an identity provider.
    string(
        "password",
        "An initial or reset password; never stored or returned.",
    )
    .mutability(Mutability::WriteOnly)
    .returned(Returned::Never),
    complex("emails", "The person's email addresses.")
        .multi()
        .required()
        .subs(&EMAIL_SUBS),
    complex("phoneNumbers", "The person's phone numbers.")
        .multi()
        .subs(&PHONE_SUBS),
    complex("ims", "The person's instant messaging addresses.")
        .multi()
        .subs(&IM_SUBS),
    complex("photos", "URLs of photos of the person.")
        .multi()
        .subs(&PHOTO_SUBS),
    complex("addresses", "The person's postal addresses.")
        .multi()
        .subs(&ADDRESS_SUBS),
    complex(
        "groups",
        "The Groups the person belongs to; changed through /Groups.",
    )
    .multi()
    .mutability(Mutability::ReadOnly)
    .subs(&GROUP_REF_SUBS),
    complex("entitlements", "Things the person is entitled to.")
        .multi()
        .subs(&ENTITLEMENT_SUBS),
    complex("roles", "The person's roles.")
        .multi()
        .subs(&ROLE_SUBS),
    complex("x509Certificates", "Certificates issued to the person.")
        .multi()
        .subs(&CERTIFICATE_SUBS),
];

static MANAGER_SUBS: [Attribute; 3] = [
    string("value", "The id of the manager's User."),
    reference("$ref", "The URI of the manager's User.").refs(&["User"]),
    string("displayName", "The manager's name.").mutability(Mutability::ReadOnly),
];

static ENTERPRISE_ATTRIBUTES: [Attribute; 6] = [
    string(
        "employeeNumber",
        "The number the organization gave the person.",
    ),
    string("costCenter", "The person's cost center."),
    string("organization", "The person's organization."),
    string("division", "The person's division."),
    string("department", "The person's department."),
    complex("manager", "The person's manager.").subs(&MANAGER_SUBS),
];

static MEMBER_SUBS: [Attribute; 4] = [
    string("value", "The id of the member.").mutability(Mutability::Immutable),
    reference("$ref", "The URI of the member.")
        .refs(&["User", "Group"])
        .mutability(Mutability::Immutable),
    string("type", "Whether the member is a User or a Group.")
        .canonical(&["User", "Group"])
        .mutability(Mutability::Immutable),
    // Deviation: not in §8.7.1; §8.4's example and identity providers send it. We work it out
    // from the member (their userName), so a client cannot set it, and it is returned only
    // when asked for (`attributes=members.display`): a client reading back the members it
    // sent gets them as sent.
    string("display", "The member's userName.")
        .mutability(Mutability::ReadOnly)
        .returned(Returned::Request),
];

static GROUP_ATTRIBUTES: [Attribute; 2] = [
    // Deviation: required (§4.2 says REQUIRED; §8.7.1 says false); a Group needs a name.
    string("displayName", "The name of the Group.").required(),
    complex("members", "The members of the Group.")
        .multi()
        .subs(&MEMBER_SUBS),
];

pub static USER_SCHEMA: Schema = Schema {
    id: USER_URN,
    name: "User",
    description: "A person's account.",
    attributes: &USER_ATTRIBUTES,
};

pub static ENTERPRISE_USER_SCHEMA: Schema = Schema {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Where a person sits in their organization.",
    attributes: &ENTERPRISE_ATTRIBUTES,
};

pub static GROUP_SCHEMA: Schema = Schema {
    id: GROUP_URN,
    name: "Group",
    description: "A set of Users.",
    attributes: &GROUP_ATTRIBUTES,
};

/// Every schema we serve, in the order `/Schemas` lists them.
pub static SCHEMAS: [&Schema; 3] = [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GROUP_SCHEMA];

static META_SUBS: [Attribute; 5] = [
    string("resourceType", "The resource type's name.")
        .case_exact()
        .mutability(Mutability::ReadOnly),
    Attribute::new(
        "created",
        AttrKind::DateTime,
        "When the resource was created.",
    )
    .mutability(Mutability::ReadOnly),
    Attribute::new(
        "lastModified",
        AttrKind::DateTime,
        "When the resource last changed.",
    )
    .mutability(Mutability::ReadOnly),
    reference("location", "The resource's URI.")
        .refs(&["uri"])
        .case_exact()
        .mutability(Mutability::ReadOnly),
    string("version", "The resource's entity tag.")
        .case_exact()
        .mutability(Mutability::ReadOnly),
];

/// The attributes every resource has (RFC 7643 §3.1). They belong to no schema, so
/// `/Schemas` does not list them; `find` resolves them against the resource's core schema.
pub static COMMON_ATTRIBUTES: [Attribute; 3] = [
    string("id", "Our identifier of the resource.")
        .case_exact()
        .mutability(Mutability::ReadOnly)
        .returned(Returned::Always)
        .uniqueness(Uniqueness::Server),
    string("externalId", "The client's identifier of the resource.").case_exact(),
    complex("meta", "Facts about the resource kept by the server.")
        .mutability(Mutability::ReadOnly)
        .subs(&META_SUBS),
];

static USER_EXTENSIONS: [&Schema; 1] = [&ENTERPRISE_USER_SCHEMA];

/// The resource types we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];

    /// The resource type's name ("User"), also its id under /ResourceTypes.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The endpoint relative to the SCIM base ("/Users").
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "/Users",
            ResourceKind::Group => "/Groups",
        }
    }

    pub fn core_schema(self) -> &'static Schema {
        match self {
            ResourceKind::User => &USER_SCHEMA,
            ResourceKind::Group => &GROUP_SCHEMA,
        }
    }

    /// The schema extensions this resource type takes (all optional).
    pub fn extensions(self) -> &'static [&'static Schema] {
        match self {
            ResourceKind::User => &USER_EXTENSIONS,
            ResourceKind::Group => &[],
        }
    }

    /// The core schema, then the extensions.
    pub fn schemas(self) -> impl Iterator<Item = &'static Schema> {
        std::iter::once(self.core_schema()).chain(self.extensions().iter().copied())
    }
}

/// The schema with this URN, case-insensitively.
pub fn schema(urn: &str) -> Option<&'static Schema> {
    SCHEMAS
        .iter()
        .copied()
        .find(|s| s.id.eq_ignore_ascii_case(urn))
}

/// What an attribute path resolves to: the schema, the attribute and, for `a.b`, the
/// sub-attribute.
pub type Resolved = (
    &'static Schema,
    &'static Attribute,
    Option<&'static Attribute>,
);

/// Resolves `[uri:]name[.sub]` for a resource type, case-insensitively (RFC 7643 §2.1). The
/// URN may be left out for the core schema and the common attributes (§3.1), which resolve
/// against the core schema; an extension's attributes need their URN (RFC 7644 §3.10).
pub fn find(
    resource: ResourceKind,
    uri: Option<&str>,
    name: &str,
    sub: Option<&str>,
) -> Option<Resolved> {
    let core = resource.core_schema();
    let schema = match uri {
        None => core,
        Some(uri) => resource
            .schemas()
            .find(|s| s.id.eq_ignore_ascii_case(uri))?,
    };
    let attribute = schema.attribute(name).or_else(|| {
        std::ptr::eq(schema, core)
            .then(|| lookup(&COMMON_ATTRIBUTES, name))
            .flatten()
    })?;
    let sub = match sub {
        None => None,
        Some(sub) => Some(attribute.sub_attribute(sub)?),
    };
    Some((schema, attribute, sub))
}

/// A path in attribute notation (RFC 7644 §3.10), split into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrPath<'a> {
    pub uri: Option<&'a str>,
    pub name: &'a str,
    pub sub: Option<&'a str>,
}

/// Splits `urn:...:User:name.givenName` into URN, name and sub-attribute. A URN prefix is
/// recognised only when it is one of this resource type's schemas: attribute names have no
/// colon, so anything else is not a path of ours. Returns `None` for a bare schema URN.
pub fn split_path(resource: ResourceKind, path: &str) -> Option<AttrPath<'_>> {
    let (uri, rest) = match resource.schemas().find(|s| has_urn_prefix(path, s.id)) {
        Some(s) => (Some(&path[..s.id.len()]), &path[s.id.len() + 1..]),
        None => (None, path),
    };
    if rest.is_empty() || rest.contains(':') {
        return None;
    }
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    Some(AttrPath { uri, name, sub })
}

/// Resolves a path in attribute notation; see [`find`] and [`split_path`].
pub fn find_path(resource: ResourceKind, path: &str) -> Option<Resolved> {
    let p = split_path(resource, path)?;
    find(resource, p.uri, p.name, p.sub)
}

fn has_urn_prefix(path: &str, urn: &str) -> bool {
    path.len() > urn.len()
        && path.as_bytes()[urn.len()] == b':'
        && path
            .get(..urn.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(urn))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (schema, attribute, sub-attribute) of a resource type, from the tables.
    fn every_path(resource: ResourceKind) -> Vec<Resolved> {
        let mut all = Vec::new();
        for schema in resource.schemas() {
            for attribute in schema.attributes {
                all.push((schema, attribute, None));
                for sub in attribute.sub_attributes {
                    all.push((schema, attribute, Some(sub)));
                }
            }
        }
        all
    }

    fn same(a: Option<Resolved>, b: Resolved) -> bool {
        a.is_some_and(|(s, at, sub)| {
            std::ptr::eq(s, b.0)
                && std::ptr::eq(at, b.1)
                && match (sub, b.2) {
                    (None, None) => true,
                    (Some(x), Some(y)) => std::ptr::eq(x, y),
                    _ => false,
                }
        })
    }

    #[test]
    fn find_resolves_every_table_attribute_in_any_case() {
        for resource in ResourceKind::ALL {
            for expected in every_path(resource) {
                let (schema, attribute, sub) = expected;
                let sub_name = sub.map(|s| s.name);
                for name in [
                    attribute.name.to_string(),
                    attribute.name.to_uppercase(),
                    attribute.name.to_lowercase(),
                ] {
                    let sub_upper = sub_name.map(str::to_uppercase);
                    let found = find(resource, Some(schema.id), &name, sub_upper.as_deref());
                    assert!(same(found, expected), "{resource:?} {name} {sub_name:?}");
                    let found = find(resource, Some(&schema.id.to_lowercase()), &name, sub_name);
                    assert!(same(found, expected), "{resource:?} {name} {sub_name:?}");
                    // The URN is optional for the core schema only.
                    let bare = find(resource, None, &name, sub_name);
                    if std::ptr::eq(schema, resource.core_schema()) {
                        assert!(same(bare, expected), "{resource:?} {name}");
                    } else {
                        assert!(bare.is_none(), "{resource:?} {name} needs its URN");
                    }
                }
            }
        }
    }

    #[test]
    fn find_resolves_nothing_outside_the_tables() {
        use ResourceKind::*;
        let table: [(ResourceKind, Option<&str>, &str, Option<&str>); 9] = [
            (User, None, "members", None),
            (User, None, "userName", Some("value")),
            (User, None, "emails", Some("nope")),
            (User, None, "schemas", None),
            (User, Some(GROUP_URN), "displayName", None),
            (User, Some(ENTERPRISE_USER_URN), "id", None),
            (Group, None, "userName", None),
            (Group, Some(ENTERPRISE_USER_URN), "department", None),
            (Group, None, "members", Some("primary")),
        ];
        for (resource, uri, name, sub) in table {
            assert!(find(resource, uri, name, sub).is_none(), "{name} {sub:?}");
        }
    }

    #[test]
    fn common_attributes_resolve_against_the_core_schema() {
        for resource in ResourceKind::ALL {
            for (name, sub) in [
                ("ID", None),
                ("externalid", None),
                ("meta", Some("LOCATION")),
            ] {
                let (schema, attribute, found_sub) = find(resource, None, name, sub).expect(name);
                assert!(std::ptr::eq(schema, resource.core_schema()));
                assert!(attribute.name.eq_ignore_ascii_case(name));
                assert_eq!(found_sub.is_some(), sub.is_some());
                assert!(find(resource, Some(resource.core_schema().id), name, sub).is_some());
            }
        }
        let (_, id, _) = find(ResourceKind::User, None, "id", None).unwrap();
        assert_eq!(id.returned, Returned::Always);
        assert_eq!(id.mutability, Mutability::ReadOnly);
    }

    type NameAndSub = (&'static str, Option<&'static str>);

    #[test]
    fn paths_in_attribute_notation_resolve() {
        use ResourceKind::*;
        let enterprise = format!("{ENTERPRISE_USER_URN}:manager.displayName");
        let core = format!("{}:EMAILS.value", USER_URN.to_uppercase());
        let table: [(ResourceKind, &str, Option<NameAndSub>); 10] = [
            (User, "userName", Some(("userName", None))),
            (User, "NAME.GIVENNAME", Some(("name", Some("givenName")))),
            (User, core.as_str(), Some(("emails", Some("value")))),
            (
                User,
                enterprise.as_str(),
                Some(("manager", Some("displayName"))),
            ),
            (User, "manager", None),
            (User, "userName.x", None),
            (User, "urn:example:foo:bar", None),
            (User, ENTERPRISE_USER_URN, None),
            (Group, "members.display", Some(("members", Some("display")))),
            (Group, "meta.version", Some(("meta", Some("version")))),
        ];
        for (resource, path, expected) in table {
            let found = find_path(resource, path).map(|(_, a, s)| (a.name, s.map(|s| s.name)));
            assert_eq!(found, expected, "{path}");
        }
    }

    #[test]
    fn names_are_unique_within_each_level() {
        fn check(attributes: &[Attribute], at: &str) {
            for (i, a) in attributes.iter().enumerate() {
                assert!(
                    attributes[i + 1..]
                        .iter()
                        .all(|b| !b.name.eq_ignore_ascii_case(a.name)),
                    "{at}.{} twice",
                    a.name
                );
                assert_eq!(
                    a.kind == AttrKind::Complex,
                    !a.sub_attributes.is_empty(),
                    "{at}.{}: sub-attributes exactly on complex attributes",
                    a.name
                );
                assert_eq!(
                    a.kind == AttrKind::Reference,
                    !a.reference_types.is_empty(),
                    "{at}.{}: reference types exactly on references",
                    a.name
                );
                check(a.sub_attributes, a.name);
            }
        }
        for schema in SCHEMAS {
            check(schema.attributes, schema.name);
        }
        check(&COMMON_ATTRIBUTES, "common");
    }

    #[test]
    fn the_characteristics_we_rely_on() {
        let user = |name, sub| find(ResourceKind::User, None, name, sub).unwrap();
        let (_, user_name, _) = user("userName", None);
        assert!(user_name.required && !user_name.case_exact);
        assert_eq!(user_name.uniqueness, Uniqueness::Server);
        let (_, password, _) = user("password", None);
        assert_eq!(
            (password.mutability, password.returned),
            (Mutability::WriteOnly, Returned::Never)
        );
        let (_, groups, _) = user("groups", None);
        assert_eq!(groups.mutability, Mutability::ReadOnly);
        assert!(groups
            .sub_attributes
            .iter()
            .all(|s| s.mutability == Mutability::ReadOnly));
        let (_, display_name, _) = find(ResourceKind::Group, None, "displayName", None).unwrap();
        assert!(display_name.required);
    }

    #[test]
    fn schemas_are_found_by_urn_in_any_case() {
        for s in SCHEMAS {
            assert_eq!(schema(&s.id.to_uppercase()), Some(s));
        }
        assert_eq!(schema("urn:ietf:params:scim:schemas:core:2.0:Schema"), None);
    }
}
