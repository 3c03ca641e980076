//! [`ImportMap`]: import renamings read from a small text file (`wasmc run --import-map FILE`).
//!
//! The format, one directive per line:
//!
//! ```text
//! # a comment; blank lines are ignored
//! module wasi_unstable = wasi_snapshot_preview1   # every import of `wasi_unstable`
//! import env.log_i32 = host.log                   # one (module, name)
//! ```
//!
//! In `import M.N = M2.N2` the module is everything before the *first* dot and the name
//! everything after it, so names may contain dots but module names may not (quote-free on
//! purpose: import names with spaces, `=` or `#` cannot be written here; use
//! [`crate::Linker::rename`] for those). Applied with [`crate::Linker::apply_import_map`], which
//! has the same order as the linker itself: module renames first, then single renames.

use std::fmt;

/// A set of import renamings, parsed from text by [`ImportMap::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportMap {
    /// `(old_module, new_module)`, in file order.
    pub modules: Vec<(String, String)>,
    /// `((old_module, old_name), (new_module, new_name))`, in file order.
    pub imports: Vec<((String, String), (String, String))>,
}

/// Why an import map could not be parsed: the 1-based line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportMapError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ImportMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "import map line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ImportMapError {}

impl ImportMap {
    /// Parses the text format described in the module documentation.
    ///
    /// # Errors
    ///
    /// An [`ImportMapError`] naming the first bad line: an unknown directive, a missing `=`,
    /// an empty or malformed module or name, or a second rename of the same module or import
    /// (ambiguous: which one should win?).
    pub fn parse(text: &str) -> Result<ImportMap, ImportMapError> {
        let mut map = ImportMap::default();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| ImportMapError { line, message };
            let content = raw.split_once('#').map_or(raw, |(before, _)| before).trim();
            if content.is_empty() {
                continue;
            }
            let (directive, rest) = content.split_once(char::is_whitespace).ok_or_else(|| {
                err(format!(
                    "expected `module A = B` or `import A.x = B.y`, found `{content}`"
                ))
            })?;
            let (lhs, rhs) = rest
                .split_once('=')
                .ok_or_else(|| err(format!("missing `=` in `{content}`")))?;
            let (lhs, rhs) = (lhs.trim(), rhs.trim());
            match directive {
                "module" => {
                    let old = module_name(lhs).map_err(&err)?;
                    let new = module_name(rhs).map_err(&err)?;
                    if map.modules.iter().any(|(o, _)| o == old) {
                        return Err(err(format!("module `{old}` is renamed twice")));
                    }
                    map.modules.push((old.to_string(), new.to_string()));
                }
                "import" => {
                    let old = qualified(lhs).map_err(&err)?;
                    let new = qualified(rhs).map_err(&err)?;
                    if map.imports.iter().any(|(o, _)| *o == old) {
                        return Err(err(format!(
                            "import `{}.{}` is renamed twice",
                            old.0, old.1
                        )));
                    }
                    map.imports.push((old, new));
                }
                other => {
                    return Err(err(format!(
                        "unknown directive `{other}` (expected `module` or `import`)"
                    )));
                }
            }
        }
        Ok(map)
    }
}

fn module_name(s: &str) -> Result<&str, String> {
    if s.is_empty() {
        return Err("empty module name".to_string());
    }
    if s.contains(char::is_whitespace) || s.contains('.') {
        return Err(format!(
            "`{s}` is not a module name (no spaces or dots allowed)"
        ));
    }
    Ok(s)
}

fn qualified(s: &str) -> Result<(String, String), String> {
    let (m, n) = s
        .split_once('.')
        .ok_or_else(|| format!("`{s}` is not of the form `module.name`"))?;
    let m = module_name(m)?;
    if n.is_empty() || n.contains(char::is_whitespace) {
        return Err(format!("`{s}` has an empty or malformed import name"));
    }
    Ok((m.to_string(), n.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_directives_and_comments() {
        let map = ImportMap::parse(
            "# header\n\nmodule wasi_unstable = wasi_snapshot_preview1\n  import env.log_i32 = host.log # trailing\nimport a.b.c = d.e\n",
        )
        .unwrap();
        assert_eq!(
            map.modules,
            vec![("wasi_unstable".into(), "wasi_snapshot_preview1".into())]
        );
        assert_eq!(
            map.imports,
            vec![
                (
                    ("env".into(), "log_i32".into()),
                    ("host".into(), "log".into())
                ),
                (("a".into(), "b.c".into()), ("d".into(), "e".into())),
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("modul a = b", 1, "unknown directive `modul`"),
            ("\nmodule a b", 2, "missing `=`"),
            ("import env = host.log", 1, "not of the form"),
            ("module a = ", 1, "empty module name"),
            ("module a = b\nmodule a = c", 2, "renamed twice"),
            ("import e.f = g.", 1, "empty or malformed"),
            ("module", 1, "expected"),
        ];
        for (text, line, needle) in cases {
            let e = ImportMap::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("import map line {line}:"))
            );
        }
    }
}
