//! Plain data handed to Perl: what AnyEvent::DNS returns is arrays of strings and numbers, and
//! hashes for decoded packets. The glue turns a [`Value`] into the matching Perl structure.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Undef,
    /// A string; borrowed for the fixed names of the tables (type and class names), which
    /// saves an allocation per record field.
    Bytes(Cow<'static, [u8]>),
    Int(i64),
    Bool(bool),
    List(Vec<Value>),
    Map(Vec<(&'static str, Value)>),
}

impl Value {
    pub(crate) fn str(s: impl AsRef<[u8]>) -> Value {
        Value::Bytes(Cow::Owned(s.as_ref().to_vec()))
    }

    /// A string of the program's own (a table's name for a code): not copied.
    pub(crate) fn fixed(s: &'static str) -> Value {
        Value::Bytes(Cow::Borrowed(s.as_bytes()))
    }

    /// A string taking over `bytes`.
    pub(crate) fn owned(bytes: Vec<u8>) -> Value {
        Value::Bytes(Cow::Owned(bytes))
    }
}

/// One node of a flattened [`Value`], in pre-order: a list node is followed by its `n`
/// children, a map node by `n` pairs of (key bytes node, value subtree).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FlatNode {
    pub(crate) kind: u32,
    pub(crate) n: u32,
    pub(crate) num: i64,
    pub(crate) ptr: *const u8,
    pub(crate) len: usize,
}

pub(crate) const KIND_UNDEF: u32 = 0;
pub(crate) const KIND_BYTES: u32 = 1;
pub(crate) const KIND_INT: u32 = 2;
pub(crate) const KIND_LIST: u32 = 3;
pub(crate) const KIND_MAP: u32 = 4;
pub(crate) const KIND_BOOL: u32 = 5;

fn node(kind: u32, n: usize, num: i64, bytes: &[u8]) -> FlatNode {
    FlatNode {
        kind,
        n: n as u32,
        num,
        ptr: bytes.as_ptr(),
        len: bytes.len(),
    }
}

/// Flattens `v`; the nodes borrow the bytes of `v`, which must outlive their use.
pub(crate) fn flatten(v: &Value, out: &mut Vec<FlatNode>) {
    match v {
        Value::Undef => out.push(node(KIND_UNDEF, 0, 0, &[])),
        Value::Bytes(b) => out.push(node(KIND_BYTES, 0, 0, b)),
        Value::Int(i) => out.push(node(KIND_INT, 0, *i, &[])),
        Value::Bool(b) => out.push(node(KIND_BOOL, 0, *b as i64, &[])),
        Value::List(items) => {
            out.push(node(KIND_LIST, items.len(), 0, &[]));
            for item in items {
                flatten(item, out);
            }
        }
        Value::Map(pairs) => {
            out.push(node(KIND_MAP, pairs.len(), 0, &[]));
            for (k, item) in pairs {
                out.push(node(KIND_BYTES, 0, 0, k.as_bytes()));
                flatten(item, out);
            }
        }
    }
}
