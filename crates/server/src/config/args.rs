//! redis-server's command line: `[config-file] [--name value ...] [-]`,
//! turned into config text appended after the file, exactly as Redis's
//! `main()` builds it, so scripts written for redis-server work unchanged.

use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Run with this config file (if any), stdin config, and options text.
    Run {
        /// The config file, as given.
        file: Option<PathBuf>,
        /// Also read configuration from standard input (`-`).
        stdin: bool,
        /// Config lines built from `--name value` options.
        options: String,
    },
    /// `-v` / `--version`.
    Version,
    /// `-h` / `--help`.
    Help,
    /// An option ferrokv does not implement (`--test-memory`, `--check-system`).
    Unsupported(String),
}

/// Appends `s` quoted the way `sdscatrepr` does, so the config parser reads
/// it back as one argument.
fn push_repr(out: &mut String, s: &str) {
    let mut v = Vec::new();
    ferrokv_engine::util::push_repr(&mut v, s.as_bytes());
    out.push_str(&String::from_utf8_lossy(&v));
}

/// Interprets the arguments (without the program name).
pub fn parse(args: &[String]) -> Invocation {
    let Some(first) = args.first() else {
        return Invocation::Run { file: None, stdin: false, options: String::new() };
    };
    match first.as_str() {
        "-v" | "--version" => return Invocation::Version,
        "-h" | "--help" => return Invocation::Help,
        "--test-memory" | "--check-system" => return Invocation::Unsupported(first.clone()),
        _ => {}
    }
    let mut j = 0;
    let mut file = None;
    if !first.starts_with('-') {
        file = Some(PathBuf::from(first));
        j = 1;
    }
    let argc = args.len();
    let mut stdin = false;
    let mut options = String::new();
    let mut handled_last = true;
    while j < argc {
        let a = &args[j];
        let is_last = j == argc - 1;
        if a == "-" && (j == 0 || is_last) {
            stdin = true;
        } else if handled_last && a.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&a[2..]);
            options.push(' ');
            let words = a.split_whitespace().count();
            if words == 1 {
                handled_last = false;
                let next_is_option = !is_last && args[j + 1].starts_with("--");
                if a.eq_ignore_ascii_case("--save") && (next_is_option || is_last) {
                    // `--save` with nothing after it means `save ""`.
                    options.push_str("\"\"");
                    handled_last = true;
                }
            } else {
                handled_last = true;
            }
        } else {
            push_repr(&mut options, a);
            options.push(' ');
            handled_last = true;
        }
        j += 1;
    }
    Invocation::Run { file, stdin, options }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(a: &[&str]) -> String {
        match parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>()) {
            Invocation::Run { options, .. } => options,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn like_redis_main() {
        assert_eq!(opts(&["--port", "7000", "--save", ""]), "port \"7000\" \nsave \"\" ");
        assert_eq!(opts(&["--save", "900", "1", "300", "10"]), "save \"900\" \"1\" \"300\" \"10\" ");
        assert_eq!(opts(&["--save", "--port", "1"]), "save \"\"\nport \"1\" ");
        assert_eq!(opts(&["--port", "1", "--save"]), "port \"1\" \nsave \"\"");
        assert_eq!(opts(&["--port", "--foo"]), "port \"--foo\" ");
        assert_eq!(opts(&["--port 6380"]), "port 6380 ");
        assert!(matches!(
            parse(&["my.conf".into(), "--port".into(), "1".into()]),
            Invocation::Run { file: Some(_), .. }
        ));
        assert!(matches!(parse(&["-".into()]), Invocation::Run { stdin: true, .. }));
        assert_eq!(parse(&["--version".into()]), Invocation::Version);
    }
}
