//! PostgreSQL's logging, beyond one line on stderr: `log_line_prefix`, the csvlog and jsonlog
//! formats, `log_timezone`, syslog, and the logging collector that owns the log files. What
//! elog writes is built here; `crate::elog` decides when and where it goes.

pub mod buf;
pub mod collector;
pub mod config;
pub mod files;
pub mod pipe;
pub mod record;
pub mod syslog;
pub mod timezone;
