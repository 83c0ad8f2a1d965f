//! Hardened XML parsing and namespace-exact element access shared by metadata and response.
//! One parser (uppsala, the one bergshamra verifies on) so what is verified is what is read.

use bergshamra::xml::{Document, NodeId, NodeKind};

use crate::SamlError;

pub(crate) const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub(crate) const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub(crate) const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub(crate) const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub(crate) const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

/// Parses `xml`, refusing DTDs, entity declarations and processing instructions before and
/// after parsing. `<!` is allowed only to open a comment or CDATA, `<?` only for the XML
/// declaration at the very start; anything else never appears in a genuine SAML message.
pub(crate) fn parse(xml: &str, max_len: usize) -> Result<Document<'_>, SamlError> {
    if xml.len() > max_len {
        return Err(SamlError::TooLarge { limit: max_len });
    }
    refuse_markup_declarations(xml)?;
    let doc = bergshamra::xml::uppsala::parser::Parser::new()
        .with_forbid_dtd(true)
        .with_forbid_entities(true)
        .parse(xml)
        .map_err(|e| SamlError::MalformedXml(e.to_string()))?;
    if descendants(&doc, doc.root())
        .any(|id| matches!(doc.node_kind(id), Some(NodeKind::ProcessingInstruction(_))))
    {
        return Err(SamlError::ProcessingInstruction);
    }
    Ok(doc)
}

fn refuse_markup_declarations(xml: &str) -> Result<(), SamlError> {
    for (at, _) in xml.match_indices("<!") {
        let rest = &xml[at + 2..];
        if !(rest.starts_with("--") || rest.starts_with("[CDATA[")) {
            return Err(SamlError::DtdOrEntity);
        }
    }
    let body = xml.trim_start_matches('\u{feff}');
    let declaration_end = if body.starts_with("<?xml") && body[5..].starts_with(char::is_whitespace)
    {
        body.find("?>")
            .map(|end| end + 2 + (xml.len() - body.len()))
    } else {
        None
    };
    if xml
        .match_indices("<?")
        .any(|(at, _)| declaration_end.is_none_or(|end| at >= end))
    {
        return Err(SamlError::ProcessingInstruction);
    }
    Ok(())
}

/// Every node under `id` (not `id` itself), in document order.
pub(crate) fn descendants<'d>(
    doc: &'d Document<'_>,
    id: NodeId,
) -> impl Iterator<Item = NodeId> + 'd {
    let mut stack: Vec<NodeId> = doc.children_iter(id).collect::<Vec<_>>();
    stack.reverse();
    std::iter::from_fn(move || {
        let next = stack.pop()?;
        let before = stack.len();
        stack.extend(doc.children_iter(next));
        stack[before..].reverse();
        Some(next)
    })
}

pub(crate) fn is(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> bool {
    doc.element(id)
        .is_some_and(|e| e.matches_name_ns(ns, local))
}

pub(crate) fn child_elements<'d>(
    doc: &'d Document<'_>,
    id: NodeId,
) -> impl Iterator<Item = NodeId> + 'd {
    doc.children_iter(id).filter(|c| doc.element(*c).is_some())
}

pub(crate) fn children_named<'d>(
    doc: &'d Document<'_>,
    id: NodeId,
    ns: &'d str,
    local: &'d str,
) -> impl Iterator<Item = NodeId> + 'd {
    child_elements(doc, id).filter(move |c| is(doc, *c, ns, local))
}

/// The one child with this name, `None` when absent; two are refused, since a second copy is
/// exactly where a wrapping attack hides the value it wants read.
pub(crate) fn only_child(
    doc: &Document<'_>,
    id: NodeId,
    ns: &str,
    local: &'static str,
) -> Result<Option<NodeId>, SamlError> {
    let mut found = children_named(doc, id, ns, local);
    let first = found.next();
    if found.next().is_some() {
        return Err(SamlError::Wrapping(match local {
            "Assertion" => "more than one Assertion",
            "Signature" => "more than one Signature on one element",
            _ => "an element that may appear once appears twice",
        }));
    }
    Ok(first)
}

pub(crate) fn required_child(
    doc: &Document<'_>,
    id: NodeId,
    ns: &str,
    local: &'static str,
) -> Result<NodeId, SamlError> {
    only_child(doc, id, ns, local)?.ok_or(SamlError::MissingElement(local))
}

/// An attribute without a namespace, as SAML defines all of its own attributes; a prefixed
/// look-alike (`x:Recipient`) is never read in its place.
pub(crate) fn attr<'d>(doc: &'d Document<'_>, id: NodeId, name: &str) -> Option<&'d str> {
    doc.element(id)?
        .attributes
        .iter()
        .find(|a| a.name.namespace_uri.is_none() && *a.name.local_name == *name)
        .map(|a| &*a.value)
}

/// The element's full character content: every text and CDATA child joined. Comments are
/// skipped, not treated as the end of the value, so `admin@x<!---->.evil` reads as the whole
/// `admin@x.evil` that the exclusive canonical form (and so the signature) covers.
pub(crate) fn text(doc: &Document<'_>, id: NodeId) -> Result<String, SamlError> {
    let mut out = String::new();
    for child in doc.children_iter(id) {
        match doc.node_kind(child) {
            Some(NodeKind::Text(t)) | Some(NodeKind::CData(t)) => out.push_str(t),
            Some(NodeKind::Comment(_)) => {}
            _ => return Err(SamlError::Wrapping("markup inside a text value")),
        }
    }
    Ok(out)
}

/// `text` without surrounding whitespace, for identifiers and URIs.
pub(crate) fn trimmed_text(doc: &Document<'_>, id: NodeId) -> Result<String, SamlError> {
    Ok(text(doc, id)?.trim().to_owned())
}

/// Escapes text for an attribute value or element content.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctype_entities_and_processing_instructions_are_refused() {
        let cases = [
            (r#"<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>"#, "dtd"),
            (
                r#"<?xml version="1.0"?><!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>"#,
                "dtd",
            ),
            (r#"<r><?evil data?></r>"#, "pi"),
            (r#"<?xml-stylesheet href="x"?><r/>"#, "pi"),
            (r#" <?xml version="1.0"?><r/>"#, "pi"),
        ];
        for (xml, kind) in cases {
            let err = parse(xml, 1 << 20).unwrap_err();
            match kind {
                "dtd" => assert!(matches!(err, SamlError::DtdOrEntity), "{xml}: {err:?}"),
                _ => assert!(
                    matches!(err, SamlError::ProcessingInstruction),
                    "{xml}: {err:?}"
                ),
            }
        }
    }

    #[test]
    fn declaration_comments_and_cdata_are_accepted() {
        let doc = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?><r><!-- note --><![CDATA[a<b]]>c</r>"#,
            1 << 20,
        )
        .unwrap();
        let root = doc.document_element().unwrap();
        assert_eq!(text(&doc, root).unwrap(), "a<bc");
    }

    #[test]
    fn comment_inside_a_value_does_not_truncate_it() {
        let doc = parse("<r>admin@example.com<!---->.evil.test</r>", 1024).unwrap();
        let root = doc.document_element().unwrap();
        assert_eq!(text(&doc, root).unwrap(), "admin@example.com.evil.test");
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        assert!(matches!(
            parse("<r>0123456789</r>", 8),
            Err(SamlError::TooLarge { limit: 8 })
        ));
    }
}
