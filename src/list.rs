//! Lists (`nodes/pg_list.h`): PostgreSQL 15's array-based `List` of pointers, `int`s or `Oid`s,
//! with its allocation rules, so code that walks `elements` or uses the header's inline
//! functions and `foreach` macros sees what it would see in PostgreSQL.
//!
//! A list is one `palloc`'d chunk in `CurrentMemoryContext`: the header, then room for a few
//! cells. Growing past that room moves the cells to a chunk of their own in the list's context;
//! an empty list is always NIL (NULL). Operations that modify a list in place return it, and may
//! move its cells (pointers to cells do not survive an insertion).
//!
//! Where PostgreSQL only asserts (a list of the wrong kind, a position out of range, a cell of
//! another list), this raises an ERROR naming the function, before anything is changed.

use crate::mcxt;
use crate::nodes::{self, NodeTag, T_IntList, T_List, T_OidList};
use crate::pg::types::{Oid, ERROR};
use libc::{c_int, c_void};
use std::mem::{offset_of, size_of};
use std::ptr::null_mut;

/// One element: a pointer, an `int` or an `Oid`, by the list's tag.
#[repr(C)]
#[derive(Clone, Copy)]
pub union ListCell {
    pub ptr_value: *mut c_void,
    pub int_value: c_int,
    pub oid_value: Oid,
}

/// PostgreSQL's `List` (24 bytes, then `initial_elements`).
#[repr(C)]
pub struct List {
    /// `T_List`, `T_IntList` or `T_OidList`.
    pub type_: NodeTag,
    /// Cells in use.
    pub length: c_int,
    /// Cells allocated at `elements`.
    pub max_length: c_int,
    /// The cells: `initial_elements`, or a chunk of their own once the list outgrew them.
    pub elements: *mut ListCell,
    /// Cells allocated with the header.
    pub initial_elements: [ListCell; 0],
}

const _: () = assert!(size_of::<ListCell>() == 8);
const _: () = assert!(size_of::<List>() == 24 && offset_of!(List, initial_elements) == 24);

/// The comparator `list_sort` takes.
pub type list_sort_comparator =
    Option<unsafe extern "C" fn(a: *const ListCell, b: *const ListCell) -> c_int>;

/// Header size in cells, rounded up: the header and the cells allocated with it make a power of
/// two of cells (as in PostgreSQL), so small lists fit one allocator size class.
const HEADER_CELLS: usize = offset_of!(List, initial_elements).div_ceil(size_of::<ListCell>());

fn kind_name(t: NodeTag) -> &'static str {
    match t {
        T_List => "a pointer list",
        T_IntList => "an integer list",
        T_OidList => "an OID list",
        _ => "not a list",
    }
}

fn error(args: std::fmt::Arguments<'_>) -> ! {
    crate::pg::raise_fmt(ERROR, 0, args)
}

/// Raises unless `list` is NIL or a list with tag `want`.
///
/// # Safety
/// `list` must be NULL or a live node.
pub unsafe fn check_kind(function: &str, list: *const List, want: NodeTag) {
    if list.is_null() {
        return;
    }
    // SAFETY: list is a live node.
    let t = unsafe { (*list).type_ };
    if t != want {
        error(format_args!(
            "{function}: the list is {} (node type {t}), not {}",
            kind_name(t),
            kind_name(want)
        ));
    }
}

/// Raises unless `list` is NIL or any kind of list.
///
/// # Safety
/// As for `check_kind`.
pub unsafe fn check_list(function: &str, list: *const List) {
    if list.is_null() {
        return;
    }
    // SAFETY: list is a live node.
    let t = unsafe { (*list).type_ };
    if !matches!(t, T_List | T_IntList | T_OidList) {
        error(format_args!("{function}: node type {t} is not a list"));
    }
}

/// Raises unless both lists are of the same kind (either may be NIL).
///
/// # Safety
/// Both NULL or live lists.
unsafe fn check_same(function: &str, a: *const List, b: *const List) {
    // SAFETY: as the caller promises.
    unsafe {
        check_list(function, a);
        check_list(function, b);
        if !a.is_null() && !b.is_null() && (*a).type_ != (*b).type_ {
            error(format_args!(
                "{function}: cannot combine {} with {}",
                kind_name((*a).type_),
                kind_name((*b).type_)
            ));
        }
    }
}

/// The number of cells (0 for NIL).
///
/// # Safety
/// NULL or a live list.
pub unsafe fn length(list: *const List) -> usize {
    if list.is_null() {
        0
    } else {
        // SAFETY: a live list.
        unsafe { (*list).length as usize }
    }
}

/// The cells of a list, as a slice (empty for NIL).
///
/// # Safety
/// NULL or a live list, not modified while the slice is used.
pub unsafe fn cells<'a>(list: *const List) -> &'a [ListCell] {
    if list.is_null() {
        return &[];
    }
    // SAFETY: elements holds length initialised cells.
    unsafe { std::slice::from_raw_parts((*list).elements, (*list).length as usize) }
}

/// A new list of `len` (> 0) cells, uninitialised, in `CurrentMemoryContext`.
pub fn new_list(t: NodeTag, len: usize) -> *mut List {
    let room = (len + HEADER_CELLS).max(8).next_power_of_two() - HEADER_CELLS;
    let bytes = offset_of!(List, initial_elements) + room * size_of::<ListCell>();
    let list = mcxt::alloc(bytes, false).cast::<List>();
    // SAFETY: list is a fresh chunk of `bytes` bytes.
    unsafe {
        (*list).type_ = t;
        (*list).length = len as c_int;
        (*list).max_length = room as c_int;
        (*list).elements = (&raw mut (*list).initial_elements).cast();
    }
    list
}

/// Makes room for at least `min` cells, moving them to a chunk of their own in the list's
/// context the first time.
///
/// # Safety
/// `list` is a live list.
unsafe fn enlarge(list: *mut List, min: usize) {
    if min > (1 << 30) / size_of::<ListCell>() {
        error(format_args!("list length {min} is too large"));
    }
    let room = min.max(16).next_power_of_two();
    // SAFETY: list is live; its cells are initial_elements or a chunk from this allocator.
    unsafe {
        let initial: *mut ListCell = (&raw mut (*list).initial_elements).cast();
        if (*list).elements == initial {
            let ctx = mcxt::chunk_context(list.cast());
            let cells = mcxt::alloc_in(ctx, room * size_of::<ListCell>(), 0).cast::<ListCell>();
            std::ptr::copy_nonoverlapping(initial, cells, (*list).length as usize);
            (*list).elements = cells;
        } else {
            (*list).elements =
                mcxt::realloc((*list).elements.cast(), room * size_of::<ListCell>(), 0).cast();
        }
        (*list).max_length = room as c_int;
    }
}

/// Opens a gap of one cell at `pos` (0..=length) and returns it.
///
/// # Safety
/// `list` is a live list; `pos` is in range.
unsafe fn insert_cell(list: *mut List, pos: usize) -> *mut ListCell {
    // SAFETY: as the caller promises; the move stays within max_length.
    unsafe {
        let len = (*list).length as usize;
        if len >= (*list).max_length as usize {
            enlarge(list, len + 1);
        }
        let at = (*list).elements.add(pos);
        std::ptr::copy(at, at.add(1), len - pos);
        (*list).length += 1;
        at
    }
}

/// `lappend` and friends: `list` (NIL: a new list of tag `t`) with `cell` added at the end.
///
/// # Safety
/// `list` NULL or a live list of tag `t` (checked by the caller).
pub unsafe fn append(list: *mut List, t: NodeTag, cell: ListCell) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        if list.is_null() {
            let l = new_list(t, 1);
            *(*l).elements = cell;
            return l;
        }
        *insert_cell(list, (*list).length as usize) = cell;
        list
    }
}

/// `lcons` and friends: `cell` added at the front.
///
/// # Safety
/// As for `append`.
pub unsafe fn prepend(list: *mut List, t: NodeTag, cell: ListCell) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe { insert(list, t, 0, cell, "lcons") }
}

/// `list_insert_nth` and friends: `cell` becomes element `pos` (0..=length).
///
/// # Safety
/// As for `append`.
pub unsafe fn insert(
    list: *mut List,
    t: NodeTag,
    pos: c_int,
    cell: ListCell,
    function: &str,
) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        let len = length(list);
        if pos < 0 || pos as usize > len {
            error(format_args!(
                "{function}: position {pos} is out of range for a list of length {len}"
            ));
        }
        if list.is_null() {
            return append(list, t, cell);
        }
        *insert_cell(list, pos as usize) = cell;
        list
    }
}

/// `list_make1_impl` .. `list_make5_impl`: a new list of tag `t` with these cells.
pub fn make(t: NodeTag, items: &[ListCell]) -> *mut List {
    if !matches!(t, T_List | T_IntList | T_OidList) {
        error(format_args!("list_make: node type {t} is not a list type"));
    }
    let list = new_list(t, items.len());
    // SAFETY: the new list has room for items.len() cells.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), (*list).elements, items.len()) };
    list
}

/// `list_concat`: `list2`'s cells appended to `list1` (modified in place; NIL: a copy of
/// `list2`).
///
/// # Safety
/// Both NULL or live lists.
pub unsafe fn concat(list1: *mut List, list2: *const List) -> *mut List {
    // SAFETY: as the caller promises; list2 may be list1 itself, so its length is read first
    // and the cells copied from the (possibly moved) array afterwards.
    unsafe {
        check_same("list_concat", list1, list2);
        if list1.is_null() {
            return copy(list2);
        }
        let (n1, n2) = ((*list1).length as usize, length(list2));
        if n2 == 0 {
            return list1;
        }
        if n1 + n2 > (*list1).max_length as usize {
            enlarge(list1, n1 + n2);
        }
        std::ptr::copy((*list2).elements, (*list1).elements.add(n1), n2);
        (*list1).length = (n1 + n2) as c_int;
        list1
    }
}

/// `list_concat_copy`: a new list with the cells of both.
///
/// # Safety
/// Both NULL or live lists.
pub unsafe fn concat_copy(list1: *const List, list2: *const List) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        check_same("list_concat_copy", list1, list2);
        if list1.is_null() {
            return copy(list2);
        }
        if list2.is_null() {
            return copy(list1);
        }
        let (n1, n2) = ((*list1).length as usize, (*list2).length as usize);
        let out = new_list((*list1).type_, n1 + n2);
        std::ptr::copy_nonoverlapping((*list1).elements, (*out).elements, n1);
        std::ptr::copy_nonoverlapping((*list2).elements, (*out).elements.add(n1), n2);
        out
    }
}

/// `list_truncate`: keeps the first `new_size` cells (NIL for 0 or less; longer: unchanged).
///
/// # Safety
/// NULL or a live list.
pub unsafe fn truncate(list: *mut List, new_size: c_int) -> *mut List {
    if new_size <= 0 {
        return null_mut();
    }
    // SAFETY: as the caller promises.
    unsafe {
        if (new_size as usize) < length(list) {
            (*list).length = new_size;
        }
    }
    list
}

/// How `member` and the functions built on it compare pointer cells.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// `equal()` on the nodes pointed to.
    Equal,
    /// The pointers themselves.
    Pointer,
    /// `int` values.
    Int,
    /// `Oid` values.
    Oid,
}

impl Compare {
    /// The list tag these comparisons apply to.
    pub fn tag(self) -> NodeTag {
        match self {
            Compare::Equal | Compare::Pointer => T_List,
            Compare::Int => T_IntList,
            Compare::Oid => T_OidList,
        }
    }

    /// Whether two cells match.
    ///
    /// # Safety
    /// For `Equal`, both cells hold NULL or live nodes.
    pub unsafe fn same(self, a: ListCell, b: ListCell) -> bool {
        // SAFETY: the union field read is the one the list kind stores; see above for Equal.
        unsafe {
            match self {
                Compare::Equal => nodes::equal(a.ptr_value, b.ptr_value),
                Compare::Pointer => a.ptr_value == b.ptr_value,
                Compare::Int => a.int_value == b.int_value,
                Compare::Oid => a.oid_value == b.oid_value,
            }
        }
    }
}

/// Index of the first cell of `list` matching `datum`.
///
/// # Safety
/// `list` NULL or a live list of `how`'s kind (checked by the caller).
pub unsafe fn position(list: *const List, datum: ListCell, how: Compare) -> Option<usize> {
    // SAFETY: as the caller promises.
    unsafe { cells(list).iter().position(|&c| how.same(c, datum)) }
}

/// `list_delete_nth_cell`: removes element `n`; the last one gone, the list is freed (NIL).
///
/// # Safety
/// NULL or a live list.
pub unsafe fn delete_nth(list: *mut List, n: c_int, function: &str) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        check_list(function, list);
        let len = length(list);
        if n < 0 || n as usize >= len {
            error(format_args!(
                "{function}: position {n} is out of range for a list of length {len}"
            ));
        }
        if len == 1 {
            free(list, false);
            return null_mut();
        }
        let at = (*list).elements.add(n as usize);
        std::ptr::copy(at.add(1), at, len - 1 - n as usize);
        (*list).length -= 1;
        list
    }
}

/// `list_delete_cell`: removes the cell `cell` of `list`.
///
/// # Safety
/// NULL or a live list; `cell` any pointer (checked to be one of the list's cells).
pub unsafe fn delete_cell(list: *mut List, cell: *const ListCell) -> *mut List {
    // SAFETY: as the caller promises; only addresses are compared before the check passes.
    unsafe {
        check_list("list_delete_cell", list);
        let start = if list.is_null() {
            0
        } else {
            (*list).elements as usize
        };
        let offset = (cell as usize).wrapping_sub(start);
        let index = offset / size_of::<ListCell>();
        if list.is_null() || offset % size_of::<ListCell>() != 0 || index >= (*list).length as usize
        {
            error(format_args!(
                "list_delete_cell: the cell does not belong to the list"
            ));
        }
        delete_nth(list, index as c_int, "list_delete_cell")
    }
}

/// `list_delete_first_n`: removes the first `n` elements (all: NIL, the list freed).
///
/// # Safety
/// NULL or a live list.
pub unsafe fn delete_first_n(list: *mut List, n: c_int) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        check_list("list_delete_first_n", list);
        if n <= 0 {
            return list;
        }
        let len = length(list);
        if n as usize >= len {
            free(list, false);
            return null_mut();
        }
        let n = n as usize;
        std::ptr::copy((*list).elements.add(n), (*list).elements, len - n);
        (*list).length = (len - n) as c_int;
        list
    }
}

/// `list_union` and friends: a new list with `list1`'s elements, then those of `list2` not
/// already in the result.
///
/// # Safety
/// Both NULL or live lists (of nodes, for `Compare::Equal`).
pub unsafe fn union(
    function: &str,
    list1: *const List,
    list2: *const List,
    how: Compare,
) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        check_kind(function, list1, how.tag());
        check_kind(function, list2, how.tag());
        let mut out = copy(list1);
        for &c in cells(list2) {
            if position(out, c, how).is_none() {
                out = append(out, how.tag(), c);
            }
        }
        out
    }
}

/// `list_intersection` and friends: a new list with the elements of `list1` also in `list2`.
///
/// # Safety
/// As for `union`.
pub unsafe fn intersection(
    function: &str,
    list1: *const List,
    list2: *const List,
    how: Compare,
) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        check_kind(function, list1, how.tag());
        check_kind(function, list2, how.tag());
        let mut out = null_mut();
        if list2.is_null() {
            return out;
        }
        for &c in cells(list1) {
            if position(list2, c, how).is_some() {
                out = append(out, how.tag(), c);
            }
        }
        out
    }
}

/// `list_difference` and friends: a new list with the elements of `list1` not in `list2`.
///
/// # Safety
/// As for `union`.
pub unsafe fn difference(
    function: &str,
    list1: *const List,
    list2: *const List,
    how: Compare,
) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        check_kind(function, list1, how.tag());
        check_kind(function, list2, how.tag());
        if list2.is_null() {
            return copy(list1);
        }
        let mut out = null_mut();
        for &c in cells(list1) {
            if position(list2, c, how).is_none() {
                out = append(out, how.tag(), c);
            }
        }
        out
    }
}

/// `list_concat_unique` and friends: the elements of `list2` not in `list1` appended to it.
///
/// # Safety
/// As for `union`; `list1` is modified in place.
pub unsafe fn concat_unique(
    function: &str,
    list1: *mut List,
    list2: *const List,
    how: Compare,
) -> *mut List {
    // SAFETY: as the caller promises. list2 may be list1: its cells are read by index, and
    // every one of them is already in list1, so nothing is appended while it is walked.
    unsafe {
        check_kind(function, list1, how.tag());
        check_kind(function, list2, how.tag());
        let mut out = list1;
        for i in 0..length(list2) {
            let c = *(*list2).elements.add(i);
            if position(out, c, how).is_none() {
                out = append(out, how.tag(), c);
            }
        }
        out
    }
}

/// `list_free` / `list_free_deep`: frees the list (and, deep, what each pointer cell points to).
///
/// # Safety
/// NULL or a live list; with `deep`, every cell a `palloc`'d pointer (or NULL).
pub unsafe fn free(list: *mut List, deep: bool) {
    if list.is_null() {
        return;
    }
    // SAFETY: as the caller promises.
    unsafe {
        if deep {
            for c in cells(list) {
                mcxt::free(c.ptr_value);
            }
        }
        let initial: *mut ListCell = (&raw mut (*list).initial_elements).cast();
        if (*list).elements != initial {
            mcxt::free((*list).elements.cast());
        }
        mcxt::free(list.cast());
    }
}

/// `list_copy`: a shallow copy (NIL for NIL).
///
/// # Safety
/// NULL or a live list.
pub unsafe fn copy(list: *const List) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe { copy_range(list, 0, length(list)) }
}

/// A new list with cells `from..to` of `list` (NIL when empty).
///
/// # Safety
/// NULL or a live list; `from <= to <= length`.
pub unsafe fn copy_range(list: *const List, from: usize, to: usize) -> *mut List {
    if list.is_null() || from >= to {
        return null_mut();
    }
    // SAFETY: as the caller promises.
    unsafe {
        let out = new_list((*list).type_, to - from);
        std::ptr::copy_nonoverlapping((*list).elements.add(from), (*out).elements, to - from);
        out
    }
}

/// `list_copy_deep`: a copy of a pointer list whose elements are copied with `copyObject`.
///
/// # Safety
/// NULL or a live list of nodes.
pub unsafe fn copy_deep(list: *const List) -> *mut List {
    // SAFETY: as the caller promises.
    unsafe {
        check_kind("list_copy_deep", list, T_List);
        let out = copy(list);
        let n = length(out);
        for i in 0..n {
            let c = (*out).elements.add(i);
            (*c).ptr_value = nodes::copy((*c).ptr_value);
        }
        out
    }
}

/// `list_sort`: sorts the cells in place with `cmp`.
///
/// # Safety
/// NULL or a live list; `cmp` a comparator for its cells.
pub unsafe fn sort(list: *mut List, cmp: list_sort_comparator) {
    let Some(cmp) = cmp else {
        error(format_args!("list_sort: the comparator is NULL"));
    };
    // SAFETY: as the caller promises: qsort calls the comparator with pointers to cells, which
    // is the comparator's type with its arguments seen as `const void *`.
    unsafe {
        check_list("list_sort", list);
        let n = length(list);
        if n > 1 {
            libc::qsort(
                (*list).elements.cast(),
                n,
                size_of::<ListCell>(),
                Some(std::mem::transmute::<
                    unsafe extern "C" fn(*const ListCell, *const ListCell) -> c_int,
                    unsafe extern "C" fn(*const c_void, *const c_void) -> c_int,
                >(cmp)),
            );
        }
    }
}

/// `list_deduplicate_oid`: drops adjacent duplicates from an OID list, in place.
///
/// # Safety
/// NULL or a live list.
pub unsafe fn deduplicate_oid(list: *mut List) {
    // SAFETY: as the caller promises.
    unsafe {
        check_kind("list_deduplicate_oid", list, T_OidList);
        let n = length(list);
        if n < 2 {
            return;
        }
        let e = (*list).elements;
        let mut kept = 0;
        for j in 1..n {
            if (*e.add(kept)).oid_value != (*e.add(j)).oid_value {
                kept += 1;
                *e.add(kept) = *e.add(j);
            }
        }
        (*list).length = (kept + 1) as c_int;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: c_int) -> ListCell {
        ListCell { int_value: i }
    }

    fn ints(list: *const List) -> Vec<c_int> {
        // SAFETY: the test's lists are live integer lists.
        unsafe { cells(list).iter().map(|c| c.int_value).collect() }
    }

    #[test]
    fn append_grows_past_the_initial_cells_and_delete_compacts() {
        // SAFETY: lists made and used within the test, in the process's top context.
        unsafe {
            let mut l = null_mut();
            for i in 0..40 {
                l = append(l, T_IntList, int(i));
            }
            assert_eq!(ints(l), (0..40).collect::<Vec<_>>());
            assert_eq!((*l).max_length, 64);
            l = delete_nth(l, 0, "t");
            l = delete_first_n(l, 9);
            assert_eq!(ints(l)[..3], [10, 11, 12]);
            l = insert(l, T_IntList, 1, int(-1), "t");
            assert_eq!(ints(l)[..3], [10, -1, 11]);
            let c = concat(l, l);
            assert_eq!(length(c), 62);
            let first = new_list(T_IntList, 1);
            assert_eq!((*first).max_length, 5);
            free(c, false);
            free(first, false);
        }
    }
}
