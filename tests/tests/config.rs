//! `adauth::config`: profiles, the environment's precedence, secrets from commands and
//! files, refused permissions, and clear errors for a malformed file.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use adauth::ErrorKind;
use adauth::config::Config;

const CANARY: &str = "Zq7xConfigCanary";

fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn no_env(_: &str) -> Option<String> {
    None
}

const PROFILES: &str = r#"
[profiles.eu-agency]
provider = "mediago"
api_token_command = "printf '%s\n' Y2xpZW50XzE0NjpzZWNyZXQ="
account_id = "100146"

[profiles.us-agency]
provider = "mediago"
api_token_file = "mediago-us.secret"
token_level = "account"

[profiles.reports]
provider = "fyber"
client_id = "210263"
client_secret = "inline-secret"
"#;

#[test]
fn profiles_name_their_provider_and_set_its_variables_by_short_name() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mediago-us.secret", "dXM6c2VjcmV0\n", 0o600);
    let path = write(dir.path(), "config.toml", PROFILES, 0o600);
    let config = Config::from_path(&path).unwrap();
    let names: Vec<&str> = config.profiles().map(|p| p.name()).collect();
    assert_eq!(names, ["eu-agency", "reports", "us-agency"]);

    let eu = config.profile("eu-agency").unwrap();
    assert_eq!(eu.provider().name(), "mediago");
    let settings: Vec<_> = eu.settings().collect();
    assert_eq!(
        settings,
        [
            ("ADAUTH_MEDIAGO_ACCOUNT_ID", "value"),
            ("ADAUTH_MEDIAGO_API_TOKEN", "command")
        ]
    );
    let lookup = eu.lookup_over(&no_env).unwrap();
    assert_eq!(
        lookup("ADAUTH_MEDIAGO_API_TOKEN").as_deref(),
        Some("Y2xpZW50XzE0NjpzZWNyZXQ="),
        "the command's output, its line break trimmed"
    );
    assert_eq!(
        lookup("ADAUTH_MEDIAGO_ACCOUNT_ID").as_deref(),
        Some("100146")
    );
    assert_eq!(lookup("ADAUTH_MEDIAGO_BASE_URL"), None);

    // A file relative to the config's directory.
    let us = config.profile("us-agency").unwrap();
    let lookup = us.lookup_over(&no_env).unwrap();
    assert_eq!(
        lookup("ADAUTH_MEDIAGO_API_TOKEN").as_deref(),
        Some("dXM6c2VjcmV0")
    );
    assert_eq!(
        lookup("ADAUTH_MEDIAGO_TOKEN_LEVEL").as_deref(),
        Some("account")
    );

    // Each builds its provider's source.
    for profile in config.profiles() {
        let lookup = profile.lookup_over(&no_env).unwrap();
        profile.provider().source_from_lookup(&lookup).unwrap();
    }

    let err = config.profile("asia").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(
        err.to_string().contains("eu-agency, reports, us-agency"),
        "{err}"
    );
}

#[test]
fn environment_variables_win_and_then_the_profiles_command_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let text = format!(
        "[profiles.p]\nprovider = \"fyber\"\nclient_id = \"from-file\"\n\
         client_secret_command = \"touch {} && echo from-command\"\n",
        marker.display()
    );
    let path = write(dir.path(), "config.toml", &text, 0o600);
    let profile = Config::from_path(&path)
        .unwrap()
        .profile("p")
        .unwrap()
        .clone();
    let env = |name: &str| match name {
        "ADAUTH_FYBER_CLIENT_SECRET" => Some("from-env".to_owned()),
        "ADAUTH_FYBER_BASE_URL" => Some("http://127.0.0.1:9/".to_owned()),
        _ => None,
    };
    let lookup = profile.lookup_over(&env).unwrap();
    assert_eq!(
        lookup("ADAUTH_FYBER_CLIENT_SECRET").as_deref(),
        Some("from-env")
    );
    assert_eq!(
        lookup("ADAUTH_FYBER_CLIENT_ID").as_deref(),
        Some("from-file")
    );
    assert_eq!(
        lookup("ADAUTH_FYBER_BASE_URL").as_deref(),
        Some("http://127.0.0.1:9/"),
        "the environment's variables the profile does not set are kept too"
    );
    assert!(
        !marker.exists(),
        "the overridden setting's command was not run"
    );

    let lookup = profile.lookup_over(&no_env).unwrap();
    assert_eq!(
        lookup("ADAUTH_FYBER_CLIENT_SECRET").as_deref(),
        Some("from-command")
    );
    assert!(marker.exists());
}

#[test]
fn commands_and_files_that_fail_are_clear_errors_and_commands_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let profile = |setting: &str| {
        let text = format!("[profiles.p]\nprovider = \"fyber\"\nclient_id = \"x\"\n{setting}\n");
        let path = write(dir.path(), "config.toml", &text, 0o600);
        Config::from_path(&path)
            .unwrap()
            .command_timeout(Duration::from_millis(300))
            .profile("p")
            .unwrap()
            .clone()
    };
    let error = |setting: &str| {
        let err = profile(setting)
            .lookup_over(&no_env)
            .err()
            .expect("an error");
        assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
        err.to_string()
    };
    let failed = error(r#"client_secret_command = "echo 'no such entry' >&2; exit 3""#);
    assert!(
        failed.contains("`client_secret_command` failed"),
        "{failed}"
    );
    assert!(failed.contains("no such entry"), "{failed}");
    let empty = error(r#"client_secret_command = "true""#);
    assert!(empty.contains("came out empty"), "{empty}");
    let slow = error(r#"client_secret_command = "sleep 10""#);
    assert!(slow.contains("did not finish within 0.3 s"), "{slow}");
    let missing = error(r#"client_secret_file = "nowhere.secret""#);
    assert!(missing.contains("nowhere.secret"), "{missing}");
    // The output of a failed command is never repeated.
    let echoed = error(&format!(
        r#"client_secret_command = "echo {CANARY}; exit 1""#
    ));
    assert!(!echoed.contains(CANARY), "{echoed}");
}

#[test]
fn a_config_others_can_read_is_refused_when_it_holds_a_secret_and_one_they_can_write_always() {
    let dir = tempfile::tempdir().unwrap();
    let inline = format!(
        "[profiles.p]\nprovider = \"fyber\"\nclient_id = \"x\"\nclient_secret = \"{CANARY}\"\n"
    );
    let by_command = "[profiles.p]\nprovider = \"fyber\"\nclient_id = \"x\"\nclient_secret_command = \"pass show x\"\n";
    for (text, mode, refused) in [
        (inline.as_str(), 0o600, false),
        (inline.as_str(), 0o640, true),
        (inline.as_str(), 0o604, true),
        (by_command, 0o644, false),
        (by_command, 0o620, true),
        (by_command, 0o602, true),
    ] {
        let path = write(dir.path(), "config.toml", text, mode);
        match Config::from_path(&path) {
            Ok(_) => assert!(!refused, "mode {mode:o} should be refused"),
            Err(err) => {
                assert!(refused, "mode {mode:o}: {err}");
                assert_eq!(err.kind(), ErrorKind::Configuration);
                let message = err.to_string();
                assert!(message.contains("chmod 600"), "{message}");
                assert!(!message.contains(CANARY), "{message}");
            }
        }
    }
}

#[test]
fn a_malformed_file_is_an_error_with_its_line_that_never_quotes_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[profiles.p]\nprovider = \"fyber\"\nclient_secret = \"{CANARY}\nclient_id = \"x\"\n"
    );
    let path = write(dir.path(), "config.toml", &text, 0o600);
    let err = Config::from_path(&path).unwrap_err();
    let message = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("config.toml"), "{message}");
    assert!(!message.contains(CANARY), "{message}");

    for (text, says) in [
        (
            "[profiles.p]\nprovider = \"nope\"\n",
            "unknown provider `nope`",
        ),
        ("[profiles.p]\nclient_id = \"x\"\n", "`provider` is missing"),
        (
            "[profiles.p]\nprovider = \"fyber\"\nclient_idd = \"x\"\n",
            "`client_idd` is not a setting of fyber; settings: client_id, client_secret, base_url",
        ),
        (
            "[profiles.p]\nprovider = \"fyber\"\nclient_secret = \"a\"\nclient_secret_file = \"b\"\n",
            "set more than once",
        ),
        ("[settings]\nx = 1\n", "unknown section `settings`"),
    ] {
        let path = write(dir.path(), "config.toml", text, 0o600);
        let message = Config::from_path(&path).unwrap_err().to_string();
        assert!(message.contains(says), "{message}");
    }
}

#[test]
fn debug_never_shows_a_setting() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[profiles.p]\nprovider = \"fyber\"\nclient_id = \"x\"\nclient_secret = \"{CANARY}\"\n"
    );
    let path = write(dir.path(), "config.toml", &text, 0o600);
    let config = Config::from_path(&path).unwrap();
    let shown = format!("{config:?} {:?}", config.profile("p").unwrap());
    assert!(!shown.contains(CANARY), "{shown}");
    assert!(shown.contains("secret value"), "{shown}");
}

#[test]
fn the_default_path_follows_adauth_config_then_xdg_then_home() {
    let lookup = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    assert_eq!(
        Config::path_from(&lookup(&[
            ("ADAUTH_CONFIG", "/etc/adauth.toml"),
            ("HOME", "/h")
        ])),
        Some(PathBuf::from("/etc/adauth.toml"))
    );
    assert_eq!(
        Config::path_from(&lookup(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
        Some(PathBuf::from("/x/adauth/config.toml"))
    );
    assert_eq!(
        Config::path_from(&lookup(&[("HOME", "/h")])),
        Some(PathBuf::from("/h/.config/adauth/config.toml"))
    );
    assert_eq!(Config::path_from(&lookup(&[])), None);
}
