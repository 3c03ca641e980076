//! `wasmc check PLUGIN --host MANIFEST`: would this plugin link against this host? Reads the
//! plugin's imports and exports (a Wasm binary with wasmparser, WAT after parsing it, an
//! artifact from its metadata), the host manifest (TOML, or JSON for a `.json` file), and
//! reports missing and mistyped imports and exports, and host functions nothing uses.
//! Nothing is compiled, loaded or run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use wasmc_cli::check::{HostManifest, check};
use wasmc_cli::input::{InputKind, wasm_from_source};
use wasmc_cli::modinfo::ModuleFace;
use wasmc_loader::{ArtifactInfo, ImportMap};

/// Check offline that a plugin links against a host manifest.
#[derive(Debug, Args)]
#[command(after_help = "\
The manifest lists the host's functions with their signatures, the exports it requires,
renames in the --import-map format, and whether it adds WASI (docs/CLI.md):

  wasi = true
  renames = \"module env_v1 = env\"
  [[functions]]
  module = \"env\"
  name = \"log\"
  type = \"(i32, i32) -> ()\"
  [[exports]]
  name = \"process\"
  type = \"(i32) -> i32\"

Exit status: 0 if the plugin links (unused host functions are only noted), 1 if an import
is missing or mistyped or a required export is missing or mistyped.

Examples:
  wasmc check plugin.wasm --host host.toml
  wasmc check plugin.wasmc.o --host host.json --json")]
pub struct CheckCommand {
    /// The plugin: a Wasm binary, WAT text or an artifact (recognised by content).
    pub plugin: PathBuf,

    /// The host manifest: TOML, or JSON when the file name ends in `.json`.
    #[arg(long, value_name = "MANIFEST")]
    pub host: PathBuf,

    /// More renames, from a file in the `wasmc run --import-map` format (applied after the
    /// manifest's own).
    #[arg(long, value_name = "FILE")]
    pub import_map: Option<PathBuf>,

    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

impl CheckCommand {
    /// Checks and prints the report; exit status 1 when the plugin would not link.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let name = self.plugin.display().to_string();
        let bytes = std::fs::read(&self.plugin).with_context(|| format!("reading {name}"))?;
        let face = if InputKind::detect(&bytes) == InputKind::Artifact {
            let info =
                ArtifactInfo::parse(&bytes).with_context(|| format!("reading artifact {name}"))?;
            ModuleFace::from_metadata(&info.meta)
        } else {
            let wasm = wasm_from_source(&bytes, &name)?;
            ModuleFace::from_wasm(&wasm)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("reading {name}"))?
        };

        let host_name = self.host.display().to_string();
        let text = std::fs::read_to_string(&self.host)
            .with_context(|| format!("reading host manifest {host_name}"))?;
        let is_json = self
            .host
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let mut manifest = HostManifest::parse(&text, is_json)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("reading host manifest {host_name}"))?;
        if let Some(path) = &self.import_map {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading import map {}", path.display()))?;
            let map = ImportMap::parse(&text)
                .with_context(|| format!("parsing import map {}", path.display()))?;
            manifest.renames.modules.extend(map.modules);
            manifest.renames.imports.extend(map.imports);
        }

        let report = check(&face, &manifest).map_err(anyhow::Error::msg)?;
        if self.json {
            let v = report.to_json(&name);
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            print!("{}", report.to_text(&name));
        }
        Ok(if report.linkable() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}
