//! PostgreSQL's quoting rules for building SQL text: `quote_identifier` and `quote_literal_cstr`.

/// Keywords that may not be used as bare identifiers (PostgreSQL 15's reserved,
/// type/function-name and column-name keywords; unreserved keywords need no quotes). Sorted.
const NEEDS_QUOTES: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// True when `ident` must be double-quoted to be read back as the same identifier.
pub fn identifier_needs_quotes(ident: &[u8]) -> bool {
    let Some(&first) = ident.first() else {
        return true;
    };
    if !(first.is_ascii_lowercase() || first == b'_') {
        return true;
    }
    if !ident
        .iter()
        .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    {
        return true;
    }
    std::str::from_utf8(ident).is_ok_and(|s| NEEDS_QUOTES.binary_search(&s).is_ok())
}

/// `quote_identifier`: `ident` itself when it needs no quotes, else `"..."` with `"` doubled.
pub fn quote_identifier(ident: &[u8]) -> Option<Vec<u8>> {
    if !identifier_needs_quotes(ident) {
        return None;
    }
    let mut out = Vec::with_capacity(ident.len() + 2);
    out.push(b'"');
    for &c in ident {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
    Some(out)
}

/// `quote_literal_cstr`: `'...'` with `'` doubled; with a backslash in the text, `E'...'` with
/// backslashes doubled too.
pub fn quote_literal(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 3);
    if raw.contains(&b'\\') {
        out.push(b'E');
    }
    out.push(b'\'');
    for &c in raw {
        if c == b'\'' || c == b'\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push(b'\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_list_is_sorted() {
        assert!(NEEDS_QUOTES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn identifiers() {
        let q = |s: &str| {
            quote_identifier(s.as_bytes())
                .map_or_else(|| s.to_string(), |v| String::from_utf8(v).unwrap())
        };
        assert_eq!(q("schema1"), "schema1");
        assert_eq!(q("_x9"), "_x9");
        assert_eq!(q("counted"), "counted");
        assert_eq!(q("Mixed"), "\"Mixed\"");
        assert_eq!(q("9lives"), "\"9lives\"");
        assert_eq!(q("a b"), "\"a b\"");
        assert_eq!(q("sel\"ect"), "\"sel\"\"ect\"");
        assert_eq!(q("select"), "\"select\"");
        assert_eq!(q("user"), "\"user\"");
        assert_eq!(q("name"), "name"); // unreserved
        assert_eq!(q(""), "\"\"");
    }

    #[test]
    fn literals() {
        let q = |s: &str| String::from_utf8(quote_literal(s.as_bytes())).unwrap();
        assert_eq!(q("abc"), "'abc'");
        assert_eq!(q("it's"), "'it''s'");
        assert_eq!(q("a\\b'c"), "E'a\\\\b''c'");
        assert_eq!(q(""), "''");
    }
}
