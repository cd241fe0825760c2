//! Loading the configuration: the file, standard input and the command line
//! concatenated and read line by line with redis.conf's rules.

pub mod args;

use std::path::{Path, PathBuf};

use ferrokv_engine::config::{self as table, pflag, Config, PARAMS};

/// A configuration error, printed as Redis prints its fatal config errors.
#[derive(Debug, PartialEq, Eq)]
pub struct Fatal {
    /// 1-based line number in the concatenated text, and the line.
    pub at: Option<(usize, String)>,
    /// What is wrong.
    pub reason: String,
}

impl Fatal {
    /// The text written to stderr before exiting with status 1.
    pub fn report(&self) -> String {
        let mut s = format!("\n*** FATAL CONFIG FILE ERROR (ferrokv {}) ***\n", env!("CARGO_PKG_VERSION"));
        if let Some((n, line)) = &self.at {
            s.push_str(&format!("Reading the configuration file, at line {n}\n>>> '{line}'\n"));
        }
        s.push_str(&self.reason);
        s.push('\n');
        s
    }
}

/// Directives Redis accepts and ignores (deprecated), with their word count.
const DEPRECATED: &[&str] = &["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

/// Splits a line like `sdssplitargs`; `None` on unbalanced quotes.
fn split_line(line: &str) -> Option<Vec<String>> {
    ferrokv_resp::split_args(line.as_bytes())
        .map(|v| v.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect())
}

/// Reads an `include`d file (with glob patterns in its last component).
fn read_include(path: &str) -> Result<String, String> {
    let p = Path::new(path);
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.contains(['*', '?', '[']) {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut matches: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| {
                        ferrokv_engine::glob::glob_match(name.as_bytes(), e.file_name().to_string_lossy().as_bytes())
                    })
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        matches.sort();
        let mut all = String::new();
        for m in matches {
            all.push_str(
                &std::fs::read_to_string(&m)
                    .map_err(|e| format!("Fatal error, can't open config file '{}': {e}", m.display()))?,
            );
        }
        return Ok(all);
    }
    std::fs::read_to_string(p).map_err(|e| format!("Fatal error, can't open config file '{path}': {e}"))
}

/// A `user` directive. ferrokv has no ACL users yet, only Redis's default
/// user with full access and an optional password (requirepass). Redis
/// resets the default user and applies the line once the whole file is
/// read, so the line loads when it describes that user: `on`, all keys,
/// channels and commands, and `nopass` or one password, clear (`>pw`) or
/// hashed (`#sha256`, accepted when it is requirepass's hash, as in the
/// files Redis's CONFIG REWRITE writes).
fn default_user(cfg: &mut Config, rule: &[String]) -> Result<(), String> {
    if rule[0] != "default" {
        return Err(format!("ACL users other than 'default' are not supported yet ('{}')", rule[0]));
    }
    enum Password {
        Unset,
        None,
        Clear(String),
        Hash(String),
    }
    let (mut on, mut keys, mut channels, mut commands) = (false, false, false, false);
    let mut password = Password::Unset;
    for r in &rule[1..] {
        match r.to_ascii_lowercase().as_str() {
            "on" => on = true,
            "~*" | "allkeys" => keys = true,
            "&*" | "allchannels" => channels = true,
            "+@all" | "allcommands" => commands = true,
            "sanitize-payload" | "skip-sanitize-payload" => {}
            "nopass" => password = Password::None,
            _ if r.starts_with('>') && matches!(password, Password::Unset | Password::None) => {
                password = Password::Clear(r[1..].to_string())
            }
            _ if r.starts_with('#') && matches!(password, Password::Unset | Password::None) => {
                password = Password::Hash(r[1..].to_ascii_lowercase())
            }
            _ => return Err(format!("ACL rule '{r}' is not supported yet (the default user has full access)")),
        }
    }
    if !(on && keys && channels && commands) {
        return Err(
            "the default user must be 'on' with '~*', '&*' and '+@all' (ACL restrictions are not supported yet)".into(),
        );
    }
    let requirepass = match password {
        Password::Unset => return Err("the default user needs 'nopass' or a password".into()),
        Password::None => String::new(),
        Password::Clear(p) => p,
        Password::Hash(h) => {
            use sha2::Digest;
            let current = cfg.requirepass.clone();
            let hex: String = sha2::Sha256::digest(current.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            if current.is_empty() || hex != h {
                return Err("hashed ACL passwords are not supported yet (unless they are requirepass's)".into());
            }
            current
        }
    };
    let idx = table::find("requirepass").expect("requirepass is a parameter");
    cfg.apply_line(idx, &[requirepass.as_str()], false)
}

/// Applies config text to `cfg` (Redis's `loadServerConfigFromString`).
///
/// `user` lines are collected in `users` (line number, line, arguments):
/// like Redis, they apply once everything else is read.
pub fn apply_text(
    cfg: &mut Config,
    text: &str,
    depth: usize,
    users: &mut Vec<(usize, String, Vec<String>)>,
) -> Result<(), Fatal> {
    let mut first_save = true;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_matches([' ', '\t', '\r', '\n']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |reason: &str| Fatal { at: Some((i + 1, line.to_string())), reason: reason.to_string() };
        let Some(words) = split_line(line) else {
            return Err(fail("Unbalanced quotes in configuration line"));
        };
        if words.is_empty() {
            continue;
        }
        let name = words[0].to_ascii_lowercase();
        if let Some(idx) = table::find(&name) {
            let multi = PARAMS[idx].flags & pflag::MULTI_ARG != 0;
            if !multi && words.len() != 2 {
                return Err(fail("wrong number of arguments"));
            }
            // One non-empty argument of a several-word parameter is split
            // as a line is (`--save "900 1"`), as in Redis.
            let split;
            let values: Vec<&str> = if multi && words.len() == 2 && !words[1].is_empty() {
                split = split_line(&words[1]).unwrap_or_default();
                split.iter().map(String::as_str).collect()
            } else {
                words[1..].iter().map(String::as_str).collect()
            };
            let accumulate = name == "save" && !first_save;
            if name == "save" {
                first_save = false;
            }
            cfg.apply_line(idx, &values, accumulate).map_err(|e| fail(&e))?;
            continue;
        }
        if name == "user" && words.len() >= 2 {
            users.push((i + 1, line.to_string(), words[1..].to_vec()));
            continue;
        }
        if DEPRECATED.contains(&name.as_str()) && words.len() == 2 {
            continue;
        }
        if name == "include" && words.len() == 2 {
            if depth > 16 {
                return Err(fail("include nesting too deep"));
            }
            let inc = read_include(&words[1]).map_err(|e| Fatal { at: None, reason: e })?;
            apply_text(cfg, &inc, depth + 1, users)?;
            continue;
        }
        return Err(fail("Bad directive or wrong number of arguments"));
    }
    Ok(())
}

/// The configuration from a config file, standard input and options text,
/// concatenated in that order (so command-line options win).
pub fn load(file: Option<&Path>, stdin: Option<String>, options: &str) -> Result<Config, Fatal> {
    let mut text = String::new();
    if let Some(f) = file {
        text = std::fs::read_to_string(f).map_err(|e| Fatal {
            at: None,
            reason: format!("Fatal error, can't open config file '{}': {e}", f.display()),
        })?;
    }
    if let Some(s) = stdin {
        text.push_str(&s);
    }
    text.push('\n');
    text.push_str(options);
    let mut cfg = Config::new();
    let mut users = Vec::new();
    apply_text(&mut cfg, &text, 0, &mut users)?;
    for (n, line, rule) in users {
        default_user(&mut cfg, &rule).map_err(|reason| Fatal { at: Some((n, line)), reason })?;
    }
    if let Some((name, value, why)) = cfg.first_unsupported() {
        return Err(Fatal { at: None, reason: format!("'{name} {value}': {why}") });
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_options() {
        let c = load(None, Some("# comment\nPORT 7001\nmaxmemory 10mb\n".into()), "port \"7002\" ").unwrap();
        assert_eq!(c.str("bind"), "127.0.0.1 -::1");
        assert_eq!(c.format(table::find("port").unwrap()), "7002");
        assert_eq!(c.maxmemory, 10 << 20);
    }

    #[test]
    fn the_default_user_line_redis_rewrites_loads() {
        let c = load(None, Some("user default on nopass ~* &* +@all\n".into()), "").unwrap();
        assert_eq!(c.requirepass, "");
        // Applied after the rest, whatever the order, as in Redis.
        let c = load(None, Some("user default on >b ~* &* +@all\nrequirepass a\n".into()), "").unwrap();
        assert_eq!(c.requirepass, "b");
        // What Redis's CONFIG REWRITE writes with requirepass foo.
        let hashed = "requirepass \"foo\"\nuser default on #2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae ~* &* +@all\n";
        assert_eq!(load(None, Some(hashed.into()), "").unwrap().requirepass, "foo");
        for (line, why) in [
            ("user alice on nopass ~* +@all", "other than 'default'"),
            ("user default on #2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae ~* &* +@all", "hashed"),
            ("user default on nopass ~app:* &* +@all", "'~app:*' is not supported"),
            ("user default on nopass ~* +@all", "must be 'on'"),
            ("user default nopass ~* &* +@all", "must be 'on'"),
            ("user default on resetpass ~* &* +@all", "'resetpass' is not supported"),
            ("user default on ~* &* +@all", "needs 'nopass' or a password"),
        ] {
            let e = load(None, Some(format!("{line}\n")), "").unwrap_err();
            assert!(e.reason.contains(why), "{line}: {}", e.reason);
        }
    }

    #[test]
    fn fatal_errors_name_the_line() {
        let e = load(None, None, "port \"6390\" \nfoo ").unwrap_err();
        assert_eq!(e.at, Some((3, "foo".into())));
        assert_eq!(e.reason, "Bad directive or wrong number of arguments");
        assert!(e.report().contains("*** FATAL CONFIG FILE ERROR"));
        let e = load(None, None, "port \"1\" \"2\" ").unwrap_err();
        assert_eq!(e.reason, "wrong number of arguments");
        let e = load(None, None, "maxmemory \"abc\" ").unwrap_err();
        assert_eq!(e.reason, "argument must be a memory value");
        let e = load(None, None, "port \"0\"x").unwrap_err();
        assert_eq!(e.reason, "Unbalanced quotes in configuration line");
    }

    #[test]
    fn deprecated_and_multi_arg() {
        let c =
            load(None, Some("list-max-ziplist-entries 5\nclient-output-buffer-limit \"pubsub 1mb 0 0\"\n".into()), "")
                .unwrap();
        assert_eq!(c.obuf_limits[2].hard, 1 << 20);
        assert!(load(None, None, "save \"\" ").is_ok());
    }

    proptest::proptest! {
        /// Arbitrary config text never panics the loader.
        #[test]
        fn never_panics(text in "[ -~\n\"'#]{0,200}") {
            let _ = load(None, Some(text), "");
        }
    }
}
