//! The database side of a worker: one libpq connection to a real PostgreSQL server
//! (`BackgroundWorkerInitializeConnection[ByOid]`), transactions on it, and the quoting helpers
//! modules use to build SQL.

pub mod conn;
pub mod cursor;
pub mod libpq;
pub mod plan;
pub mod quote;
pub mod spi;
pub mod sql;
pub mod xact;

pub use conn::{connection, Connection, QueryResult, ServerError};

/// Closes the worker's connection (called once from the exit path, after the exit callbacks).
pub fn close() {
    conn::close();
}
