//! Nodes (`nodes/nodes.h`, `nodes/value.h`): the tags of the node types that exist here (lists,
//! value nodes), the value nodes themselves, and `equal`/`copyObject` over them.
//!
//! PostgreSQL's node tree covers its parser, planner and executor; none of that exists here, so
//! `equal` and `copyObjectImpl` understand lists and the five value nodes (what `list_member`,
//! `list_copy_deep` and modules' own lists of names need) and raise a named ERROR on any other
//! tag. A node's tag is its first `int`, as in PostgreSQL.

use crate::list::{self, List};
use crate::mcxt;
use crate::pg::types::ERROR;
use libc::{c_char, c_int, c_void};

/// `NodeTag`: an `enum` in PostgreSQL, an `int` here (modules may hand over any tag).
pub type NodeTag = c_int;

// PostgreSQL 15's values (checked against its headers by c_tests/abi).
pub const T_Invalid: NodeTag = 0;
pub const T_AllocSetContext: NodeTag = 223;
pub const T_SlabContext: NodeTag = 224;
pub const T_GenerationContext: NodeTag = 225;
pub const T_Integer: NodeTag = 226;
pub const T_Float: NodeTag = 227;
pub const T_Boolean: NodeTag = 228;
pub const T_String: NodeTag = 229;
pub const T_BitString: NodeTag = 230;
pub const T_List: NodeTag = 231;
pub const T_IntList: NodeTag = 232;
pub const T_OidList: NodeTag = 233;

/// Any node: its tag first.
#[repr(C)]
pub struct Node {
    pub type_: NodeTag,
}

/// `Integer` (`intVal`).
#[repr(C)]
pub struct Integer {
    pub type_: NodeTag,
    pub ival: c_int,
}

/// `Float`: the number's text, as PostgreSQL keeps it (`floatVal` converts).
#[repr(C)]
pub struct Float {
    pub type_: NodeTag,
    pub fval: *mut c_char,
}

/// `Boolean` (`boolVal`).
#[repr(C)]
pub struct Boolean {
    pub type_: NodeTag,
    pub boolval: bool,
}

/// `String` (`strVal`).
#[repr(C)]
pub struct StringNode {
    pub type_: NodeTag,
    pub sval: *mut c_char,
}

/// `BitString`: the bits as text, led by `b` or `x`.
#[repr(C)]
pub struct BitString {
    pub type_: NodeTag,
    pub bsval: *mut c_char,
}

const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<Integer>() == 8 && offset_of!(Integer, ival) == 4);
    assert!(size_of::<Float>() == 16 && offset_of!(Float, fval) == 8);
    assert!(size_of::<Boolean>() == 8 && offset_of!(Boolean, boolval) == 4);
    assert!(size_of::<StringNode>() == 16 && offset_of!(StringNode, sval) == 8);
    assert!(size_of::<BitString>() == 16 && offset_of!(BitString, bsval) == 8);
};

/// The tag of a node.
///
/// # Safety
/// `node` must be a live node.
pub unsafe fn tag(node: *const c_void) -> NodeTag {
    // SAFETY: as the caller promises, a node starts with its tag.
    unsafe { (*node.cast::<Node>()).type_ }
}

/// A zeroed node of `size` bytes with tag `t`, in `CurrentMemoryContext` (`makeNode`).
fn new_node<T>(t: NodeTag) -> *mut T {
    let p = mcxt::alloc(std::mem::size_of::<T>(), true).cast::<T>();
    // SAFETY: p is a fresh zeroed allocation large enough for T, whose first field is the tag.
    unsafe { p.cast::<Node>().write(Node { type_: t }) };
    p
}

/// `makeInteger`.
pub fn make_integer(i: c_int) -> *mut Integer {
    let n = new_node::<Integer>(T_Integer);
    // SAFETY: n is a fresh Integer.
    unsafe { (*n).ival = i };
    n
}

/// `makeBoolean`.
pub fn make_boolean(b: bool) -> *mut Boolean {
    let n = new_node::<Boolean>(T_Boolean);
    // SAFETY: n is a fresh Boolean.
    unsafe { (*n).boolval = b };
    n
}

/// `makeString`, `makeFloat`, `makeBitString`: the node keeps the caller's pointer (no copy),
/// as PostgreSQL's do.
pub fn make_text_node(t: NodeTag, text: *mut c_char) -> *mut c_void {
    // Float, String and BitString share one layout: tag, then the text pointer.
    let n = new_node::<StringNode>(t);
    // SAFETY: n is a fresh node of that layout.
    unsafe { (*n).sval = text };
    n.cast()
}

/// What PostgreSQL calls a node type, for messages.
pub fn tag_name(t: NodeTag) -> &'static str {
    match t {
        T_Integer => "Integer",
        T_Float => "Float",
        T_Boolean => "Boolean",
        T_String => "String",
        T_BitString => "BitString",
        T_List => "List",
        T_IntList => "IntList",
        T_OidList => "OidList",
        T_AllocSetContext | T_SlabContext | T_GenerationContext => "MemoryContext",
        _ => "unknown",
    }
}

fn unsupported(function: &str, t: NodeTag) -> ! {
    crate::pg::raise_fmt(
        ERROR,
        crate::pg::make_sqlstate(b"0A000"),
        format_args!(
            "{function}() is not supported for node type {t} by bgworkerd: only lists and the \
             value nodes Integer, Float, Boolean, String and BitString exist here"
        ),
    )
}

/// Two C strings, either NULL: equal when both are NULL or both hold the same bytes.
///
/// # Safety
/// Each must be NULL or NUL-terminated.
unsafe fn same_text(a: *const c_char, b: *const c_char) -> bool {
    match (a.is_null(), b.is_null()) {
        (true, true) => true,
        // SAFETY: both NUL-terminated, as the caller promises.
        (false, false) => unsafe { libc::strcmp(a, b) == 0 },
        _ => false,
    }
}

/// `equal`: structural equality of two node trees (NULL equals NULL). Nodes of different types
/// are unequal; a pair of another type than those above is an ERROR.
///
/// # Safety
/// Each must be NULL or a live node (lists' elements too).
pub unsafe fn equal(a: *const c_void, b: *const c_void) -> bool {
    if a == b {
        return true;
    }
    if a.is_null() || b.is_null() {
        return false;
    }
    // SAFETY: both are live nodes, as the caller promises.
    unsafe {
        let t = tag(a);
        if t != tag(b) {
            return false;
        }
        match t {
            T_Integer => (*a.cast::<Integer>()).ival == (*b.cast::<Integer>()).ival,
            T_Boolean => (*a.cast::<Boolean>()).boolval == (*b.cast::<Boolean>()).boolval,
            T_Float | T_String | T_BitString => same_text(
                (*a.cast::<StringNode>()).sval,
                (*b.cast::<StringNode>()).sval,
            ),
            T_List | T_IntList | T_OidList => {
                let (la, lb) = (a.cast::<List>(), b.cast::<List>());
                if (*la).length != (*lb).length {
                    return false;
                }
                for i in 0..(*la).length as usize {
                    let (ca, cb) = (*(*la).elements.add(i), *(*lb).elements.add(i));
                    let same = match t {
                        T_List => equal(ca.ptr_value, cb.ptr_value),
                        T_IntList => ca.int_value == cb.int_value,
                        _ => ca.oid_value == cb.oid_value,
                    };
                    if !same {
                        return false;
                    }
                }
                true
            }
            _ => unsupported("equal", t),
        }
    }
}

/// `copyObjectImpl`: a deep copy in `CurrentMemoryContext` (NULL stays NULL); another type
/// than those above is an ERROR.
///
/// # Safety
/// `from` must be NULL or a live node (lists' elements too).
pub unsafe fn copy(from: *const c_void) -> *mut c_void {
    if from.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: from is a live node; strings in value nodes are NUL-terminated or NULL.
    unsafe {
        match tag(from) {
            T_Integer => make_integer((*from.cast::<Integer>()).ival).cast(),
            T_Boolean => make_boolean((*from.cast::<Boolean>()).boolval).cast(),
            t @ (T_Float | T_String | T_BitString) => {
                let s = (*from.cast::<StringNode>()).sval;
                let copy = if s.is_null() { s } else { mcxt::strdup(s) };
                make_text_node(t, copy)
            }
            T_List => list::copy_deep(from.cast()).cast(),
            T_IntList | T_OidList => list::copy(from.cast()).cast(),
            t => unsupported("copyObject", t),
        }
    }
}
