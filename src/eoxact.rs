//! What starts and ends with a transaction besides the server's own work, in PostgreSQL's order:
//! the transaction's resource owner and its release callbacks, settings changed in it, the
//! files it opened, and hash table scans left open. The transaction code (`db::xact`) calls `at_start` and `at_end`.

/// `StartTransaction`'s part: `TopTransactionResourceOwner` becomes the current owner.
pub fn at_start() {
    crate::resowner::at_start_of_transaction();
}

/// `CommitTransaction`'s (or `AbortTransaction` and `CleanupTransaction`'s) part: release
/// callbacks in the three phases, settings changes undone as the outcome requires, files
/// closed (a WARNING at commit for those left open), then the owner deleted.
pub fn at_end(is_commit: bool) {
    crate::resowner::release_transaction_owner(is_commit);
    crate::guc_runtime::at_end_of_transaction(is_commit);
    crate::fd::at_end_of_transaction(is_commit);
    crate::dsm::hash::at_end_of_transaction(is_commit);
    crate::resowner::delete_transaction_owner();
}
