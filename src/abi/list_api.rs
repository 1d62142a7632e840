//! Exports: lists (`nodes/pg_list.h`) and the node functions they rely on (`equal`,
//! `copyObjectImpl`, the value-node constructors of `nodes/value.h`). Logic in `crate::list` and
//! `crate::nodes`; declared by hand in include/nodes/*.h, as PostgreSQL 15 declares them.
//!
//! Every export may raise (out of memory, a list of the wrong kind, a position out of range):
//! policy `raises`, and the bodies own nothing that needs dropping.

use crate::list::{self, Compare, List, ListCell};
use crate::nodes::{self, NodeTag, T_IntList, T_List, T_OidList};
use crate::pg::types::Oid;
use libc::{c_char, c_int, c_void};
use std::ptr::null_mut;

fn ptr(p: *mut c_void) -> ListCell {
    ListCell { ptr_value: p }
}
fn int(i: c_int) -> ListCell {
    ListCell { int_value: i }
}
fn oid(o: Oid) -> ListCell {
    ListCell { oid_value: o }
}

/// `list_make1_impl` (behind the `list_make1` macros): a new list of tag `t`.
#[no_mangle]
pub extern "C" fn list_make1_impl(t: NodeTag, datum1: ListCell) -> *mut List {
    export!(raises, list_make1_impl, { list::make(t, &[datum1]) })
}

/// `list_make2_impl` (behind the `list_make2` macros): a new list of tag `t`.
#[no_mangle]
pub extern "C" fn list_make2_impl(t: NodeTag, datum1: ListCell, datum2: ListCell) -> *mut List {
    export!(raises, list_make2_impl, {
        list::make(t, &[datum1, datum2])
    })
}

/// `list_make3_impl` (behind the `list_make3` macros): a new list of tag `t`.
#[no_mangle]
pub extern "C" fn list_make3_impl(
    t: NodeTag,
    datum1: ListCell,
    datum2: ListCell,
    datum3: ListCell,
) -> *mut List {
    export!(raises, list_make3_impl, {
        list::make(t, &[datum1, datum2, datum3])
    })
}

/// `list_make4_impl` (behind the `list_make4` macros): a new list of tag `t`.
#[no_mangle]
pub extern "C" fn list_make4_impl(
    t: NodeTag,
    datum1: ListCell,
    datum2: ListCell,
    datum3: ListCell,
    datum4: ListCell,
) -> *mut List {
    export!(raises, list_make4_impl, {
        list::make(t, &[datum1, datum2, datum3, datum4])
    })
}

/// `list_make5_impl` (behind the `list_make5` macros): a new list of tag `t`.
#[no_mangle]
pub extern "C" fn list_make5_impl(
    t: NodeTag,
    datum1: ListCell,
    datum2: ListCell,
    datum3: ListCell,
    datum4: ListCell,
    datum5: ListCell,
) -> *mut List {
    export!(raises, list_make5_impl, {
        list::make(t, &[datum1, datum2, datum3, datum4, datum5])
    })
}

/// `lappend`: `datum` added at the end (NIL: a new list).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn lappend(list: *mut List, datum: *mut c_void) -> *mut List {
    export!(raises, lappend, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("lappend", list, T_List);
            list::append(list, T_List, ptr(datum))
        }
    })
}

/// `lappend_int`: `datum` added at the end (NIL: a new list).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn lappend_int(list: *mut List, datum: c_int) -> *mut List {
    export!(raises, lappend_int, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("lappend_int", list, T_IntList);
            list::append(list, T_IntList, int(datum))
        }
    })
}

/// `lappend_oid`: `datum` added at the end (NIL: a new list).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn lappend_oid(list: *mut List, datum: Oid) -> *mut List {
    export!(raises, lappend_oid, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("lappend_oid", list, T_OidList);
            list::append(list, T_OidList, oid(datum))
        }
    })
}

/// `lcons`: `datum` added at the front (NIL: a new list).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn lcons(datum: *mut c_void, list: *mut List) -> *mut List {
    export!(raises, lcons, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("lcons", list, T_List);
            list::prepend(list, T_List, ptr(datum))
        }
    })
}

/// `lcons_int`: `datum` added at the front (NIL: a new list).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn lcons_int(datum: c_int, list: *mut List) -> *mut List {
    export!(raises, lcons_int, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("lcons_int", list, T_IntList);
            list::prepend(list, T_IntList, int(datum))
        }
    })
}

/// `lcons_oid`: `datum` added at the front (NIL: a new list).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn lcons_oid(datum: Oid, list: *mut List) -> *mut List {
    export!(raises, lcons_oid, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("lcons_oid", list, T_OidList);
            list::prepend(list, T_OidList, oid(datum))
        }
    })
}

/// `list_insert_nth`: `datum` becomes element `pos` (0 to the length).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_insert_nth(
    list: *mut List,
    pos: c_int,
    datum: *mut c_void,
) -> *mut List {
    export!(raises, list_insert_nth, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_insert_nth", list, T_List);
            list::insert(list, T_List, pos, ptr(datum), "list_insert_nth")
        }
    })
}

/// `list_insert_nth_int`: `datum` becomes element `pos` (0 to the length).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_insert_nth_int(
    list: *mut List,
    pos: c_int,
    datum: c_int,
) -> *mut List {
    export!(raises, list_insert_nth_int, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_insert_nth_int", list, T_IntList);
            list::insert(list, T_IntList, pos, int(datum), "list_insert_nth_int")
        }
    })
}

/// `list_insert_nth_oid`: `datum` becomes element `pos` (0 to the length).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_insert_nth_oid(list: *mut List, pos: c_int, datum: Oid) -> *mut List {
    export!(raises, list_insert_nth_oid, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_insert_nth_oid", list, T_OidList);
            list::insert(list, T_OidList, pos, oid(datum), "list_insert_nth_oid")
        }
    })
}

/// `list_concat`: `list2`'s elements appended to `list1`, in place (NIL `list1`: a copy of `list2`).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_concat(list1: *mut List, list2: *const List) -> *mut List {
    export!(raises, list_concat, {
        // SAFETY: as the caller promises.
        unsafe { list::concat(list1, list2) }
    })
}

/// `list_concat_copy`: a new list with the elements of both.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_concat_copy(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_concat_copy, {
        // SAFETY: as the caller promises.
        unsafe { list::concat_copy(list1, list2) }
    })
}

/// `list_truncate`: keeps the first `new_size` elements (NIL for 0 or less).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_truncate(list: *mut List, new_size: c_int) -> *mut List {
    export!(raises, list_truncate, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_list("list_truncate", list);
            list::truncate(list, new_size)
        }
    })
}

/// `list_member`: whether the list holds an element `equal()` to `datum`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_member(list: *const List, datum: *const c_void) -> bool {
    export!(raises, list_member, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_member", list, Compare::Equal.tag());
            list::position(list, ptr(datum.cast_mut()), Compare::Equal).is_some()
        }
    })
}

/// `list_member_ptr`: whether the list holds the pointer `datum`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_member_ptr(list: *const List, datum: *const c_void) -> bool {
    export!(raises, list_member_ptr, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_member_ptr", list, Compare::Pointer.tag());
            list::position(list, ptr(datum.cast_mut()), Compare::Pointer).is_some()
        }
    })
}

/// `list_member_int`: whether the list holds `datum`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_member_int(list: *const List, datum: c_int) -> bool {
    export!(raises, list_member_int, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_member_int", list, Compare::Int.tag());
            list::position(list, int(datum), Compare::Int).is_some()
        }
    })
}

/// `list_member_oid`: whether the list holds `datum`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_member_oid(list: *const List, datum: Oid) -> bool {
    export!(raises, list_member_oid, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_member_oid", list, Compare::Oid.tag());
            list::position(list, oid(datum), Compare::Oid).is_some()
        }
    })
}

/// `list_delete`: removes the first element matching `datum` (as `list_member` compares), in place.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete(list: *mut List, datum: *mut c_void) -> *mut List {
    export!(raises, list_delete, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_delete", list, Compare::Equal.tag());
            match list::position(list, ptr(datum), Compare::Equal) {
                Some(i) => list::delete_nth(list, i as c_int, "list_delete"),
                None => list,
            }
        }
    })
}

/// `list_delete_ptr`: removes the first element matching `datum` (as `list_member_ptr` compares), in place.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete_ptr(list: *mut List, datum: *mut c_void) -> *mut List {
    export!(raises, list_delete_ptr, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_delete_ptr", list, Compare::Pointer.tag());
            match list::position(list, ptr(datum), Compare::Pointer) {
                Some(i) => list::delete_nth(list, i as c_int, "list_delete_ptr"),
                None => list,
            }
        }
    })
}

/// `list_delete_int`: removes the first element matching `datum` (as `list_member_int` compares), in place.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete_int(list: *mut List, datum: c_int) -> *mut List {
    export!(raises, list_delete_int, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_delete_int", list, Compare::Int.tag());
            match list::position(list, int(datum), Compare::Int) {
                Some(i) => list::delete_nth(list, i as c_int, "list_delete_int"),
                None => list,
            }
        }
    })
}

/// `list_delete_oid`: removes the first element matching `datum` (as `list_member_oid` compares), in place.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete_oid(list: *mut List, datum: Oid) -> *mut List {
    export!(raises, list_delete_oid, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_delete_oid", list, Compare::Oid.tag());
            match list::position(list, oid(datum), Compare::Oid) {
                Some(i) => list::delete_nth(list, i as c_int, "list_delete_oid"),
                None => list,
            }
        }
    })
}

/// `list_delete_first`: removes the first element (NIL stays NIL).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete_first(list: *mut List) -> *mut List {
    export!(raises, list_delete_first, {
        // SAFETY: as the caller promises.
        unsafe {
            if list.is_null() {
                return null_mut();
            }
            list::delete_nth(list, 0, "list_delete_first")
        }
    })
}

/// `list_delete_last`: removes the last element (NIL stays NIL).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete_last(list: *mut List) -> *mut List {
    export!(raises, list_delete_last, {
        // SAFETY: as the caller promises.
        unsafe {
            let n = list::length(list);
            if n == 0 {
                return null_mut();
            }
            list::delete_nth(list, n as c_int - 1, "list_delete_last")
        }
    })
}

/// `list_delete_first_n`: removes the first `n` elements.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete_first_n(list: *mut List, n: c_int) -> *mut List {
    export!(raises, list_delete_first_n, {
        // SAFETY: as the caller promises.
        unsafe { list::delete_first_n(list, n) }
    })
}

/// `list_delete_nth_cell`: removes element `n`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete_nth_cell(list: *mut List, n: c_int) -> *mut List {
    export!(raises, list_delete_nth_cell, {
        // SAFETY: as the caller promises.
        unsafe { list::delete_nth(list, n, "list_delete_nth_cell") }
    })
}

/// `list_delete_cell`: removes `cell`, one of the list's cells (`foreach_delete_current` uses it).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_delete_cell(list: *mut List, cell: *mut ListCell) -> *mut List {
    export!(raises, list_delete_cell, {
        // SAFETY: as the caller promises.
        unsafe { list::delete_cell(list, cell) }
    })
}

/// `list_union`: a new list: `list1`'s elements, then those of `list2` not in it.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_union(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_union, {
        // SAFETY: as the caller promises.
        unsafe { list::union("list_union", list1, list2, Compare::Equal) }
    })
}

/// `list_union_ptr`: a new list: `list1`'s elements, then those of `list2` not in it.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_union_ptr(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_union_ptr, {
        // SAFETY: as the caller promises.
        unsafe { list::union("list_union_ptr", list1, list2, Compare::Pointer) }
    })
}

/// `list_union_int`: a new list: `list1`'s elements, then those of `list2` not in it.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_union_int(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_union_int, {
        // SAFETY: as the caller promises.
        unsafe { list::union("list_union_int", list1, list2, Compare::Int) }
    })
}

/// `list_union_oid`: a new list: `list1`'s elements, then those of `list2` not in it.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_union_oid(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_union_oid, {
        // SAFETY: as the caller promises.
        unsafe { list::union("list_union_oid", list1, list2, Compare::Oid) }
    })
}

/// `list_intersection`: a new list: the elements of `list1` also in `list2`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_intersection(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_intersection, {
        // SAFETY: as the caller promises.
        unsafe { list::intersection("list_intersection", list1, list2, Compare::Equal) }
    })
}

/// `list_intersection_int`: a new list: the elements of `list1` also in `list2`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_intersection_int(
    list1: *const List,
    list2: *const List,
) -> *mut List {
    export!(raises, list_intersection_int, {
        // SAFETY: as the caller promises.
        unsafe { list::intersection("list_intersection_int", list1, list2, Compare::Int) }
    })
}

/// `list_difference`: a new list: the elements of `list1` not in `list2`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_difference(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_difference, {
        // SAFETY: as the caller promises.
        unsafe { list::difference("list_difference", list1, list2, Compare::Equal) }
    })
}

/// `list_difference_ptr`: a new list: the elements of `list1` not in `list2`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_difference_ptr(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_difference_ptr, {
        // SAFETY: as the caller promises.
        unsafe { list::difference("list_difference_ptr", list1, list2, Compare::Pointer) }
    })
}

/// `list_difference_int`: a new list: the elements of `list1` not in `list2`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_difference_int(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_difference_int, {
        // SAFETY: as the caller promises.
        unsafe { list::difference("list_difference_int", list1, list2, Compare::Int) }
    })
}

/// `list_difference_oid`: a new list: the elements of `list1` not in `list2`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_difference_oid(list1: *const List, list2: *const List) -> *mut List {
    export!(raises, list_difference_oid, {
        // SAFETY: as the caller promises.
        unsafe { list::difference("list_difference_oid", list1, list2, Compare::Oid) }
    })
}

/// `list_append_unique`: `datum` appended unless the list already holds it.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_append_unique(list: *mut List, datum: *mut c_void) -> *mut List {
    export!(raises, list_append_unique, {
        // SAFETY: as the caller promises.
        unsafe {
            let how = Compare::Equal;
            list::check_kind("list_append_unique", list, how.tag());
            if list::position(list, ptr(datum), how).is_some() {
                list
            } else {
                list::append(list, how.tag(), ptr(datum))
            }
        }
    })
}

/// `list_append_unique_ptr`: `datum` appended unless the list already holds it.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_append_unique_ptr(list: *mut List, datum: *mut c_void) -> *mut List {
    export!(raises, list_append_unique_ptr, {
        // SAFETY: as the caller promises.
        unsafe {
            let how = Compare::Pointer;
            list::check_kind("list_append_unique_ptr", list, how.tag());
            if list::position(list, ptr(datum), how).is_some() {
                list
            } else {
                list::append(list, how.tag(), ptr(datum))
            }
        }
    })
}

/// `list_append_unique_int`: `datum` appended unless the list already holds it.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_append_unique_int(list: *mut List, datum: c_int) -> *mut List {
    export!(raises, list_append_unique_int, {
        // SAFETY: as the caller promises.
        unsafe {
            let how = Compare::Int;
            list::check_kind("list_append_unique_int", list, how.tag());
            if list::position(list, int(datum), how).is_some() {
                list
            } else {
                list::append(list, how.tag(), int(datum))
            }
        }
    })
}

/// `list_append_unique_oid`: `datum` appended unless the list already holds it.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_append_unique_oid(list: *mut List, datum: Oid) -> *mut List {
    export!(raises, list_append_unique_oid, {
        // SAFETY: as the caller promises.
        unsafe {
            let how = Compare::Oid;
            list::check_kind("list_append_unique_oid", list, how.tag());
            if list::position(list, oid(datum), how).is_some() {
                list
            } else {
                list::append(list, how.tag(), oid(datum))
            }
        }
    })
}

/// `list_concat_unique`: the elements of `list2` not yet in `list1` appended to it, in place.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_concat_unique(list1: *mut List, list2: *const List) -> *mut List {
    export!(raises, list_concat_unique, {
        // SAFETY: as the caller promises.
        unsafe { list::concat_unique("list_concat_unique", list1, list2, Compare::Equal) }
    })
}

/// `list_concat_unique_ptr`: the elements of `list2` not yet in `list1` appended to it, in place.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_concat_unique_ptr(list1: *mut List, list2: *const List) -> *mut List {
    export!(raises, list_concat_unique_ptr, {
        // SAFETY: as the caller promises.
        unsafe { list::concat_unique("list_concat_unique_ptr", list1, list2, Compare::Pointer) }
    })
}

/// `list_concat_unique_int`: the elements of `list2` not yet in `list1` appended to it, in place.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_concat_unique_int(list1: *mut List, list2: *const List) -> *mut List {
    export!(raises, list_concat_unique_int, {
        // SAFETY: as the caller promises.
        unsafe { list::concat_unique("list_concat_unique_int", list1, list2, Compare::Int) }
    })
}

/// `list_concat_unique_oid`: the elements of `list2` not yet in `list1` appended to it, in place.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_concat_unique_oid(list1: *mut List, list2: *const List) -> *mut List {
    export!(raises, list_concat_unique_oid, {
        // SAFETY: as the caller promises.
        unsafe { list::concat_unique("list_concat_unique_oid", list1, list2, Compare::Oid) }
    })
}

/// `list_deduplicate_oid`: drops adjacent duplicates (sort first to drop all).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_deduplicate_oid(list: *mut List) {
    export!(raises, list_deduplicate_oid, {
        // SAFETY: as the caller promises.
        unsafe { list::deduplicate_oid(list) }
    })
}

/// `list_free`: frees the list, not what its elements point to.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_free(list: *mut List) {
    export!(raises, list_free, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_list("list_free", list);
            list::free(list, false)
        }
    })
}

/// `list_free_deep`: frees the list and every element (`pfree`).
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_free_deep(list: *mut List) {
    export!(raises, list_free_deep, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_kind("list_free_deep", list, T_List);
            list::free(list, true)
        }
    })
}

/// `list_copy`: a shallow copy.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_copy(oldlist: *const List) -> *mut List {
    export!(raises, list_copy, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_list("list_copy", oldlist);
            list::copy(oldlist)
        }
    })
}

/// `list_copy_head`: a copy of the first `len` elements.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_copy_head(oldlist: *const List, len: c_int) -> *mut List {
    export!(raises, list_copy_head, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_list("list_copy_head", oldlist);
            let n = list::length(oldlist).min(len.max(0) as usize);
            list::copy_range(oldlist, 0, n)
        }
    })
}

/// `list_copy_tail`: a copy without the first `nskip` elements.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_copy_tail(oldlist: *const List, nskip: c_int) -> *mut List {
    export!(raises, list_copy_tail, {
        // SAFETY: as the caller promises.
        unsafe {
            list::check_list("list_copy_tail", oldlist);
            let n = list::length(oldlist);
            list::copy_range(oldlist, (nskip.max(0) as usize).min(n), n)
        }
    })
}

/// `list_copy_deep`: a copy whose elements are copied with `copyObject`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_copy_deep(oldlist: *const List) -> *mut List {
    export!(raises, list_copy_deep, {
        // SAFETY: as the caller promises.
        unsafe { list::copy_deep(oldlist) }
    })
}

/// `list_sort`: sorts in place with `cmp`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_sort(list: *mut List, cmp: list::list_sort_comparator) {
    export!(raises, list_sort, {
        // SAFETY: as the caller promises.
        unsafe { list::sort(list, cmp) }
    })
}

/// `list_int_cmp`: ascending order of `int` cells, for `list_sort`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_int_cmp(p1: *const ListCell, p2: *const ListCell) -> c_int {
    export!(raises, list_int_cmp, {
        // SAFETY: as the caller promises.
        let (a, b) = unsafe { ((*p1).int_value, (*p2).int_value) };
        (a > b) as c_int - (a < b) as c_int
    })
}

/// `list_oid_cmp`: ascending order of `Oid` cells, for `list_sort`.
///
/// # Safety
/// Lists must be NIL or live lists made by these functions; node pointers NULL or live nodes.
#[no_mangle]
pub unsafe extern "C" fn list_oid_cmp(p1: *const ListCell, p2: *const ListCell) -> c_int {
    export!(raises, list_oid_cmp, {
        // SAFETY: as the caller promises.
        let (a, b) = unsafe { ((*p1).oid_value, (*p2).oid_value) };
        (a > b) as c_int - (a < b) as c_int
    })
}

/// `equal`: structural equality of two node trees (lists and value nodes; another node type is
/// an ERROR naming it).
///
/// # Safety
/// Each must be NULL or a live node.
#[no_mangle]
pub unsafe extern "C" fn equal(a: *const c_void, b: *const c_void) -> bool {
    export!(raises, equal, {
        // SAFETY: as the caller promises.
        unsafe { nodes::equal(a, b) }
    })
}

/// `copyObjectImpl` (behind the `copyObject` macro): a deep copy in `CurrentMemoryContext`.
///
/// # Safety
/// NULL or a live node.
#[no_mangle]
pub unsafe extern "C" fn copyObjectImpl(from: *const c_void) -> *mut c_void {
    export!(raises, copyObjectImpl, {
        // SAFETY: as the caller promises.
        unsafe { nodes::copy(from) }
    })
}

/// `makeInteger`: a new `Integer` node.
#[no_mangle]
pub extern "C" fn makeInteger(i: c_int) -> *mut nodes::Integer {
    export!(raises, makeInteger, { nodes::make_integer(i) })
}

/// `makeBoolean`: a new `Boolean` node.
#[no_mangle]
pub extern "C" fn makeBoolean(var: bool) -> *mut nodes::Boolean {
    export!(raises, makeBoolean, { nodes::make_boolean(var) })
}

/// `makeString`: a new `String` node pointing at `str` (not copied).
#[no_mangle]
pub extern "C" fn makeString(str: *mut c_char) -> *mut nodes::StringNode {
    export!(raises, makeString, {
        nodes::make_text_node(nodes::T_String, str).cast()
    })
}

/// `makeFloat`: a new `Float` node pointing at the number's text (not copied).
#[no_mangle]
pub extern "C" fn makeFloat(numericStr: *mut c_char) -> *mut nodes::Float {
    export!(raises, makeFloat, {
        nodes::make_text_node(nodes::T_Float, numericStr).cast()
    })
}

/// `makeBitString`: a new `BitString` node pointing at `str` (not copied).
#[no_mangle]
pub extern "C" fn makeBitString(str: *mut c_char) -> *mut nodes::BitString {
    export!(raises, makeBitString, {
        nodes::make_text_node(nodes::T_BitString, str).cast()
    })
}
