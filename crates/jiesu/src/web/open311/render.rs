//! One answer tree, two formats: JSON, and XML as GeoReport v2 writes it (a root element,
//! lists as repeated child elements, absent values as empty elements). The XML writer is our
//! own (a few lines): it escapes markup and drops characters XML 1.0 cannot carry, so text
//! echoed from input never makes an answer unreadable.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The format a URL asked for (`.json`, `.xml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `text/xml`, the standard's required format.
    Xml,
}

impl Format {
    /// Splits `name.json` / `name.xml` into the name and its format.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        let (stem, ext) = file.rsplit_once('.')?;
        match ext {
            "json" => Some((stem, Format::Json)),
            "xml" => Some((stem, Format::Xml)),
            _ => None,
        }
    }

    /// The format of a file name, XML when it names none.
    pub fn of(file: &str) -> Format {
        Format::split(file).map_or(Format::Xml, |(_, f)| f)
    }
}

/// A value of an answer.
#[derive(Debug, Clone)]
pub enum Node {
    /// Text, or absent (JSON null, an empty XML element).
    Text(Option<String>),
    /// A number, or absent.
    Num(Option<f64>),
    /// An integer.
    Int(i64),
    /// true / false.
    Bool(bool),
    /// A list; in XML each item is an element named by the `&str`.
    List(&'static str, Vec<Node>),
    /// An object with its fields in order.
    Obj(Vec<(&'static str, Node)>),
}

impl Node {
    /// Text that is always there.
    pub fn text(s: impl Into<String>) -> Node {
        Node::Text(Some(s.into()))
    }

    /// Text that may be absent.
    pub fn opt(s: Option<impl Into<String>>) -> Node {
        Node::Text(s.map(Into::into))
    }

    fn json(&self) -> serde_json::Value {
        use serde_json::Value as V;
        match self {
            Node::Text(t) => t.clone().map_or(V::Null, V::String),
            Node::Num(n) => n
                .and_then(serde_json::Number::from_f64)
                .map_or(V::Null, V::Number),
            Node::Int(i) => V::from(*i),
            Node::Bool(b) => V::Bool(*b),
            Node::List(_, items) => V::Array(items.iter().map(Node::json).collect()),
            Node::Obj(fields) => V::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.json()))
                    .collect(),
            ),
        }
    }

    fn xml(&self, tag: &str, out: &mut String) {
        let inner = match self {
            Node::Text(None) | Node::Num(None) => None,
            Node::Text(Some(t)) => Some(escape(t)),
            Node::Num(Some(n)) => Some(n.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Bool(b) => Some(b.to_string()),
            Node::List(item, items) => {
                let mut s = String::new();
                for i in items {
                    i.xml(item, &mut s);
                }
                Some(s)
            }
            Node::Obj(fields) => {
                let mut s = String::new();
                for (k, v) in fields {
                    v.xml(k, &mut s);
                }
                Some(s)
            }
        };
        match inner {
            Some(s) if !s.is_empty() => out.push_str(&format!("<{tag}>{s}</{tag}>")),
            _ => out.push_str(&format!("<{tag}/>")),
        }
    }
}

/// Escapes markup and drops what XML 1.0 cannot carry (control characters but tab and line
/// breaks, U+FFFE, U+FFFF).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The answer in `format`, `root` naming the XML document element.
pub fn answer(status: StatusCode, format: Format, root: &str, node: &Node) -> Response {
    let (body, ctype) = match format {
        Format::Json => (node.json().to_string(), "application/json; charset=utf-8"),
        Format::Xml => {
            let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            node.xml(root, &mut s);
            (s, "text/xml; charset=utf-8")
        }
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_lists_repeat_their_item_and_absent_values_are_empty_elements() {
        let n = Node::List(
            "request",
            vec![Node::Obj(vec![
                ("service_request_id", Node::text("20261204-000001")),
                ("lat", Node::Num(Some(39.9))),
                ("media_url", Node::Text(None)),
                ("description", Node::text("a<b & \u{0}c")),
            ])],
        );
        let mut s = String::new();
        n.xml("service_requests", &mut s);
        assert_eq!(
            s,
            "<service_requests><request><service_request_id>20261204-000001</service_request_id>\
             <lat>39.9</lat><media_url/><description>a&lt;b &amp; c</description></request></service_requests>"
        );
        assert_eq!(
            n.json().to_string(),
            r#"[{"description":"a<b & \u0000c","lat":39.9,"media_url":null,"service_request_id":"20261204-000001"}]"#
        );
    }
}
