//! Where a server binary's tokens come from: `--tokens-file`, else the config's
//! `auth.tokens_file`, else `LABTHINGS_TOKENS_FILE`; plus one token in `LABTHINGS_TOKEN`. None
//! of these: no authentication.

use std::path::PathBuf;

use crate::cli::config::ServerConfig;
use crate::http::auth::Tokens;

/// The environment variable naming a tokens file.
pub const TOKENS_FILE_VAR: &str = "LABTHINGS_TOKENS_FILE";
/// The environment variable holding one token.
pub const TOKEN_VAR: &str = "LABTHINGS_TOKEN";

/// The tokens to require, if any are configured; an error (naming the file, never a token) if
/// the tokens file can't be loaded: a server meant to be secured must not start open.
pub fn configured(
    flag: Option<&PathBuf>,
    config: &ServerConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Tokens>, String> {
    let file = flag
        .cloned()
        .or_else(|| config.auth.as_ref().and_then(|a| a.tokens_file.clone()))
        .or_else(|| {
            env(TOKENS_FILE_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
    let token = env(TOKEN_VAR).filter(|v| !v.trim().is_empty());
    if file.is_none() && token.is_none() {
        return Ok(None);
    }
    let mut tokens = match file {
        Some(file) => Tokens::from_file(file).map_err(|e| e.to_string())?,
        None => Tokens::new(),
    };
    if let Some(token) = token {
        tokens = tokens.with_token(token.trim());
    }
    Ok(Some(tokens))
}

/// The process environment, for [`configured`].
pub fn from_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ServerConfig {
        ServerConfig::from_json(json).unwrap()
    }

    #[test]
    fn nothing_configured_means_no_authentication() {
        let none = configured(None, &config(r#"{"things": {}}"#), |_| None).unwrap();
        assert!(none.is_none());
        let blank = configured(None, &config(r#"{"things": {}}"#), |_| Some(String::new()));
        assert!(blank.unwrap().is_none());
    }

    #[test]
    fn the_flag_wins_over_the_config_and_the_environment() {
        let folder = std::env::temp_dir().join(format!("lt-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let flag = folder.join("flag");
        let from_config = folder.join("config");
        std::fs::write(&flag, "from-flag\n").unwrap();
        std::fs::write(&from_config, "from-config\n").unwrap();
        let config = config(
            &serde_json::json!({"things": {}, "auth": {"tokens_file": from_config}}).to_string(),
        );
        let env = |name: &str| (name == TOKEN_VAR).then(|| "from-env".to_owned());
        let tokens = configured(Some(&flag), &config, env).unwrap().unwrap();
        assert!(tokens.accepts("from-flag") && tokens.accepts("from-env"));
        assert!(!tokens.accepts("from-config"));
        let tokens = configured(None, &config, env).unwrap().unwrap();
        assert!(tokens.accepts("from-config"));
        let missing = folder.join("missing");
        let error = configured(Some(&missing), &config, env).unwrap_err();
        assert!(error.contains("could not read the tokens file"), "{error}");
        let _ = std::fs::remove_dir_all(folder);
    }
}
