//! `wasmc completions` and `wasmc man` end to end: every shell gets a script that names the
//! subcommands, and the man pages are roff with a page per subcommand.

mod common;

use common::{TempDir, stderr, stdout, wasmc};

#[test]
fn completion_scripts_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _wasmc"),
        ("zsh", "#compdef wasmc"),
        ("fish", "complete -c wasmc"),
        ("elvish", "edit:completion:arg-completer[wasmc]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = wasmc(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(
            script.contains(marker),
            "{shell}: no {marker:?} in\n{script}"
        );
        for sub in ["build", "run", "check", "cache", "inspect"] {
            assert!(script.contains(sub), "{shell}: subcommand {sub} missing");
        }
    }
    let o = wasmc(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "clap refuses an unknown shell");
}

#[test]
fn man_pages_main_one_subcommand_and_all() {
    let o = wasmc(&["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(page.contains(".TH wasmc 1"), "{page}");
    assert!(
        page.contains(".SH SUBCOMMANDS") && page.contains("wasmc\\-check"),
        "{page}"
    );

    let o = wasmc(&["man", "run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(
        page.contains(".TH wasmc\\-run 1") || page.contains(".TH wasmc-run 1"),
        "{page}"
    );
    assert!(page.contains("\\-\\-no\\-cache"), "{page}");

    let o = wasmc(&["man", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no subcommand `nope`"),
        "{}",
        stderr(&o)
    );

    let dir = TempDir::new("man");
    let out = dir.path("man1");
    let o = wasmc(&["man", "--out-dir", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    for page in [
        "wasmc.1",
        "wasmc-build.1",
        "wasmc-check.1",
        "wasmc-cache-clean.1",
    ] {
        let text = std::fs::read_to_string(dir.path(&format!("man1/{page}")))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie"), "{page} is not roff");
    }
}
