//! Enough of PostgreSQL's lexical rules to cut a query string into its statements and read each
//! statement's words, which decide how SPI sends it (one round trip for the whole string, a
//! cursor for a SELECT with a row limit, `SPI_ERROR_TRANSACTION` for COMMIT, ...). The server
//! still parses everything; a statement this lexer misreads is only sent the general way.
//!
//! Semicolons split statements outside quotes ('...', E'...', "...", $tag$...$tag$), comments
//! (`--`, nested `/* */`), parentheses, and the BEGIN ... END body of a SQL-standard
//! `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (the same rule psql uses).

/// One statement of a query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text, without the terminating semicolon.
    pub text: &'a str,
    /// Its bare words (keywords and unquoted identifiers), lower-cased, with the parenthesis
    /// depth each was found at.
    words: Vec<(String, u32)>,
    /// What its first token is: `b'w'` a bare word, `b'('` a parenthesis, else that byte.
    first: u8,
}

/// What a statement is, as far as SPI cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SELECT, VALUES, TABLE or WITH ... SELECT, without INTO: can be read through a cursor.
    Query,
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ... (`SPI_ERROR_TRANSACTION`).
    Transaction,
    /// COPY from STDIN or to STDOUT (`SPI_ERROR_COPY`).
    CopyStdio,
    /// CALL or DO: may commit inside, in a non-atomic SPI connection.
    Call,
    /// Anything else (DML, DDL, SELECT INTO, WITH with data-modifying parts, ...).
    Other,
}

impl<'a> Statement<'a> {
    fn word(&self, i: usize) -> &str {
        self.words.get(i).map_or("", |(w, _)| w.as_str())
    }

    /// The first word, lower-cased ("" when the statement starts with a parenthesis or a
    /// quoted name).
    pub fn first_word(&self) -> &str {
        if self.first != b'w' {
            return "";
        }
        self.word(0)
    }

    fn top_level_has(&self, w: &str) -> bool {
        self.words.iter().any(|(x, d)| *d == 0 && x == w)
    }

    fn anywhere_has(&self, ws: &[&str]) -> bool {
        self.words.iter().any(|(x, _)| ws.contains(&x.as_str()))
    }

    pub fn kind(&self) -> Kind {
        let first = self.first_word();
        match first {
            "begin" | "start" | "commit" | "end" | "rollback" | "abort" | "savepoint"
            | "release" => Kind::Transaction,
            "prepare" if self.word(1) == "transaction" => Kind::Transaction,
            "copy" if self.top_level_has("stdin") || self.top_level_has("stdout") => {
                Kind::CopyStdio
            }
            "call" | "do" => Kind::Call,
            "select" | "values" | "table" if !self.top_level_has("into") => Kind::Query,
            "" if self.first == b'(' && !self.top_level_has("into") => Kind::Query,
            "with"
                if !self.top_level_has("into")
                    && !self.anywhere_has(&["insert", "update", "delete", "merge"]) =>
            {
                Kind::Query
            }
            _ => Kind::Other,
        }
    }

    /// The command's name as PostgreSQL's command tags spell it, for messages
    /// ("INSERT", "CREATE TABLE", "SELECT INTO", ...).
    pub fn command_name(&self) -> String {
        let first = self.first_word();
        match first {
            "select" if self.top_level_has("into") => "SELECT INTO".into(),
            "create" | "alter" | "drop" => {
                let second = self.words.iter().skip(1).find(|(w, _)| {
                    !matches!(
                        w.as_str(),
                        "or" | "replace" | "temp" | "temporary" | "unlogged" | "global" | "local"
                    )
                });
                match second {
                    Some((w, _)) => format!("{} {}", first, w).to_ascii_uppercase(),
                    None => first.to_ascii_uppercase(),
                }
            }
            "" => "SELECT".into(),
            w => w.to_ascii_uppercase(),
        }
    }
}

/// Splits `sql` into its non-empty statements.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    let b = sql.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut words: Vec<(String, u32)> = Vec::new();
    let mut depth: u32 = 0;
    let mut begin_depth: u32 = 0;
    let mut has_token = false;
    let mut first = 0u8;
    let mut i = 0usize;
    let is_ident_start = |c: u8| c.is_ascii_alphabetic() || c == b'_' || c >= 0x80;
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    while i < n {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < n && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut nest = 1;
                i += 2;
                while i < n && nest > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        nest += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        nest -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'\'' => {
                if !has_token {
                    first = c;
                }
                has_token = true;
                // E'...' takes backslash escapes; the prefix was read as a word just before.
                let escapes =
                    i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !is_ident(b[i - 2]));
                if escapes {
                    // The "e" was taken as a word: it is a string prefix, not a word.
                    words.pop();
                }
                i = skip_quoted(b, i, b'\'', escapes);
            }
            b'"' => {
                if !has_token {
                    first = c;
                }
                has_token = true;
                i = skip_quoted(b, i, b'"', false);
            }
            b'$' => {
                if !has_token {
                    first = c;
                }
                has_token = true;
                match dollar_tag(b, i) {
                    Some(tag_len) => {
                        let tag = &b[i..i + tag_len];
                        i += tag_len;
                        loop {
                            if i >= n {
                                break;
                            }
                            if b[i..].starts_with(tag) {
                                i += tag_len;
                                break;
                            }
                            i += 1;
                        }
                    }
                    None => {
                        i += 1;
                        while i < n && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
            }
            b'(' | b'[' => {
                if !has_token {
                    first = c;
                }
                has_token = true;
                depth += 1;
                i += 1;
            }
            b')' | b']' => {
                if !has_token {
                    first = c;
                }
                has_token = true;
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b';' if depth == 0 && begin_depth == 0 => {
                if has_token {
                    out.push(Statement {
                        text: &sql[start..i],
                        words: std::mem::take(&mut words),
                        first,
                    });
                }
                words.clear();
                has_token = false;
                i += 1;
                start = i;
            }
            _ if is_ident_start(c) => {
                if !has_token {
                    first = b'w';
                }
                has_token = true;
                let s = i;
                while i < n && is_ident(b[i]) {
                    i += 1;
                }
                let w = sql[s..i].to_ascii_lowercase();
                if in_routine_body_header(&words) && depth == 0 {
                    match w.as_str() {
                        "begin" => begin_depth += 1,
                        "case" if begin_depth >= 1 => begin_depth += 1,
                        "end" if begin_depth > 0 => begin_depth -= 1,
                        _ => {}
                    }
                }
                words.push((w, depth));
            }
            _ => {
                if !has_token {
                    first = c;
                }
                has_token = true;
                i += 1;
            }
        }
    }
    if has_token {
        out.push(Statement {
            text: &sql[start..],
            words,
            first,
        });
    }
    out
}

/// True when the words so far start `CREATE [OR REPLACE] FUNCTION|PROCEDURE`.
fn in_routine_body_header(words: &[(String, u32)]) -> bool {
    let w = |i: usize| words.get(i).map_or("", |(x, _)| x.as_str());
    w(0) == "create"
        && (matches!(w(1), "function" | "procedure")
            || (w(1) == "or" && w(2) == "replace" && matches!(w(3), "function" | "procedure")))
}

/// The end of a quoted string or name starting at `at` (a doubled quote stands for itself).
fn skip_quoted(b: &[u8], at: usize, quote: u8, escapes: bool) -> usize {
    let mut i = at + 1;
    while i < b.len() {
        if escapes && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// The length of a dollar-quote tag (`$$`, `$body$`) starting at `at`, or None (`$1`, a lone `$`).
fn dollar_tag(b: &[u8], at: usize) -> Option<usize> {
    // A `$` inside an identifier (`a$b`) is part of it, handled by the identifier rule.
    let mut i = at + 1;
    if i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_' || b[i] >= 0x80) {
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
            i += 1;
        }
    }
    (i < b.len() && b[i] == b'$').then_some(i + 1 - at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).iter().map(|s| s.text.trim()).collect()
    }

    #[test]
    fn splits_at_top_level_semicolons_only() {
        assert_eq!(texts("SELECT 1; SELECT 2"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(texts("SELECT 1;"), ["SELECT 1"]);
        assert_eq!(texts(" ; ;SELECT ';' ; -- x;\n"), ["SELECT ';'"]);
        assert_eq!(
            texts("SELECT $$a;b$$; SELECT $q$ $$; $q$"),
            ["SELECT $$a;b$$", "SELECT $q$ $$; $q$"]
        );
        assert_eq!(
            texts("SELECT E'\\';'; SELECT 2"),
            ["SELECT E'\\';'", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT 'it''s;'; SELECT \"a;\"\"b\""),
            ["SELECT 'it''s;'", "SELECT \"a;\"\"b\""]
        );
        assert_eq!(
            texts("/* a; /* b; */ c; */ SELECT 1; SELECT $1"),
            ["/* a; /* b; */ c; */ SELECT 1", "SELECT $1"]
        );
        assert_eq!(texts("SELECT a$b; SELECT 1"), ["SELECT a$b", "SELECT 1"]);
        assert!(split("  -- nothing\n").is_empty());
    }

    #[test]
    fn sql_standard_routine_bodies_keep_their_semicolons() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT f()";
        let t = texts(sql);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with("END"), "{t:?}");
        assert_eq!(t[1], "SELECT f()");
        // Elsewhere BEGIN is a statement of its own.
        assert_eq!(texts("BEGIN; SELECT 1; END"), ["BEGIN", "SELECT 1", "END"]);
    }

    #[test]
    fn kinds() {
        let k = |s: &str| split(s)[0].kind();
        assert_eq!(k("select 1"), Kind::Query);
        assert_eq!(k("  (SELECT 1) UNION SELECT 2"), Kind::Query);
        assert_eq!(k("VALUES (1)"), Kind::Query);
        assert_eq!(k("TABLE t"), Kind::Query);
        assert_eq!(k("WITH a AS (SELECT 1) SELECT * FROM a"), Kind::Query);
        assert_eq!(
            k("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"),
            Kind::Other
        );
        assert_eq!(k("SELECT 1 INTO t"), Kind::Other);
        assert_eq!(k("SELECT (SELECT 1 INTO x)"), Kind::Query);
        assert_eq!(k("INSERT INTO t SELECT 1"), Kind::Other);
        assert_eq!(k("commit"), Kind::Transaction);
        assert_eq!(k("PREPARE TRANSACTION 'x'"), Kind::Transaction);
        assert_eq!(k("PREPARE p AS SELECT 1"), Kind::Other);
        assert_eq!(k("COPY t FROM STDIN"), Kind::CopyStdio);
        assert_eq!(k("COPY (SELECT 'stdout') TO '/tmp/x'"), Kind::Other);
        assert_eq!(k("CALL p()"), Kind::Call);
        assert_eq!(k("DO $$BEGIN COMMIT; END$$"), Kind::Call);
        assert_eq!(k("\"select\" 1"), Kind::Other);
    }

    #[test]
    fn command_names() {
        let c = |s: &str| split(s)[0].command_name();
        assert_eq!(c("insert into t values (1)"), "INSERT");
        assert_eq!(c("CREATE UNLOGGED TABLE t (i int)"), "CREATE TABLE");
        assert_eq!(
            c("create or replace function f() returns int"),
            "CREATE FUNCTION"
        );
        assert_eq!(c("SELECT 1 INTO t"), "SELECT INTO");
    }
}
