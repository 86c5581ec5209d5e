//! The `msrv` task: no package in the dependency graph declares a `rust-version` above
//! the workspace's.
//!
//! Only one toolchain is installed where this runs, so the declared MSRV cannot be built
//! with directly. What is checked instead: this task (every dependency, dev-dependencies
//! included, from `cargo metadata`), clippy's `incompatible_msrv` lint (on by default; it
//! reads `rust-version` and flags std APIs stabilized later), and the resolver (`resolver
//! = "3"` prefers dependency versions whose `rust-version` we meet).

use crate::Failure;
use crate::cmd::{Cmd, project_root, say};
use crate::toml;

/// Runs `cargo xtask msrv`.
pub(crate) fn run() -> Result<(), Failure> {
    let path = project_root().join("Cargo.toml");
    let manifest = std::fs::read_to_string(&path)
        .map_err(|err| Failure::Other(format!("cannot read {}: {err}", path.display())))?;
    let ours = toml::table(&toml::parse(&manifest), "workspace.package")
        .and_then(|t| t.get("rust-version"))
        .map(|v| toml::unquote(v).to_owned())
        .ok_or_else(|| {
            Failure::Other("Cargo.toml: no rust-version in [workspace.package]".to_owned())
        })?;
    let json = Cmd::cargo(["metadata", "--format-version", "1", "--all-features"])
        .output_of_step("msrv")?;
    let metadata = Json::parse(&json)
        .map_err(|err| Failure::Other(format!("msrv: cannot read cargo metadata: {err}")))?;
    let packages = metadata
        .get("packages")
        .and_then(Json::array)
        .unwrap_or(&[]);
    let too_new = above(packages, &ours);
    if !too_new.is_empty() {
        return Err(Failure::Other(format!(
            "msrv: these packages need a newer Rust than our rust-version {ours}: {}; \
             pin an older version (`cargo update -p NAME --precise VERSION`) or raise \
             rust-version in Cargo.toml and the README",
            too_new.join(", ")
        )));
    }
    say(&format!(
        "msrv: ok ({} packages, none declares a rust-version above {ours})",
        packages.len()
    ));
    Ok(())
}

/// `name version (rust-version)` of each package whose `rust_version` is above `ours`.
fn above(packages: &[Json], ours: &str) -> Vec<String> {
    packages
        .iter()
        .filter_map(|p| {
            let needs = p.get("rust_version")?.string()?;
            (parse_version(needs) > parse_version(ours)).then(|| {
                format!(
                    "{} {} (rust-version {needs})",
                    p.get("name").and_then(Json::string).unwrap_or("?"),
                    p.get("version").and_then(Json::string).unwrap_or("?"),
                )
            })
        })
        .collect()
}

/// `1.89` and `1.89.0` as comparable numbers.
fn parse_version(v: &str) -> [u64; 3] {
    let mut parts = v.split('.').map(|p| p.parse().unwrap_or(0));
    [(); 3].map(|()| parts.next().unwrap_or(0))
}

/// A JSON value: just enough to read `cargo metadata`.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value()?;
        parser.skip_ws();
        if parser.pos != parser.bytes.len() {
            return Err(format!("trailing characters at byte {}", parser.pos));
        }
        Ok(value)
    }

    fn get(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn array(&self) -> Option<&[Self]> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    fn string(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", byte as char, self.pos))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(format!("unexpected input at byte {}", self.pos))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_ws();
        match self.bytes.get(self.pos) {
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.skip_ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(format!("expected `,` or `]` at byte {}", self.pos)),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(entries));
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.expect(b':')?;
                    entries.push((key, self.value()?));
                    self.skip_ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(entries));
                        }
                        _ => return Err(format!("expected `,` or `}}` at byte {}", self.pos)),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while self
                    .bytes
                    .get(self.pos)
                    .is_some_and(|b| b"+-.eE0123456789".contains(b))
                {
                    self.pos += 1;
                }
                Ok(Json::Number(
                    String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned(),
                ))
            }
            _ => Err(format!("unexpected input at byte {}", self.pos)),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err("unterminated string".to_owned());
            };
            self.pos += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let Some(&escaped) = self.bytes.get(self.pos) else {
                        return Err("unterminated string".to_owned());
                    };
                    self.pos += 1;
                    match escaped {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self
                                .bytes
                                .get(self.pos..self.pos + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .ok_or_else(|| format!("bad \\u escape at byte {}", self.pos))?;
                            self.pos += 4;
                            let c = char::from_u32(hex).unwrap_or('\u{fffd}');
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
        String::from_utf8(out).map_err(|_| "string is not UTF-8".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::{Json, above};

    /// Packages above our MSRV are named; equal, older and unset ones are not.
    #[test]
    fn finds_packages_above_our_rust_version() {
        let json = Json::parse(
            r#"{"packages": [
                {"name": "old", "version": "1.0.0", "rust_version": "1.70"},
                {"name": "same", "version": "2.0.0", "rust_version": "1.89.0"},
                {"name": "unset", "version": "0.1.0", "rust_version": null},
                {"name": "new", "version": "3.1.4", "rust_version": "1.90", "x": [1, -2.5e3, true, "a\"\u00e9"]}
            ], "version": 1}"#,
        )
        .unwrap();
        let packages = json.get("packages").and_then(Json::array).unwrap();
        assert_eq!(above(packages, "1.89"), ["new 3.1.4 (rust-version 1.90)"]);
    }

    /// Broken JSON is an error, not a panic.
    #[test]
    fn rejects_truncated_json() {
        assert!(Json::parse(r#"{"packages": [{"name": "x""#).is_err());
    }
}
