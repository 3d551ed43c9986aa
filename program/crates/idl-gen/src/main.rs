//! Generates the governance program's IDL from its code (Anchor's `idl-build` feature, the same
//! path `anchor idl build` takes) and writes it to `program/idl/upgrade_governor.json`, or with
//! `--check` fails when the committed file differs from what the code generates.
use std::path::PathBuf;
use std::process::ExitCode;

use anchor_lang_idl::build::IdlBuilder;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let program = root.join("programs/upgrade-governor");
    let out = root.join("idl/upgrade_governor.json");

    // anchor-lang-idl 0.1.4 runs `rustup toolchain install $RUSTUP_TOOLCHAIN` when that
    // variable is set (rustup sets it for every child of `cargo run`), which can replace the
    // pinned toolchain. The nested `cargo test` finds rust-toolchain.toml on its own.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = match IdlBuilder::new()
        .program_path(program)
        .skip_lint(false)
        .build()
    {
        Ok(idl) => idl,
        Err(e) => {
            eprintln!("idl-gen: build IDL: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut json = serde_json::to_string_pretty(&idl).expect("IDL serializes");
    json.push('\n');

    if check {
        let committed = std::fs::read_to_string(&out).unwrap_or_default();
        if committed != json {
            eprintln!(
                "idl-gen: {} is stale; run `make idl` and commit the result",
                out.display()
            );
            return ExitCode::FAILURE;
        }
        println!("idl-gen: {} is up to date", out.display());
        return ExitCode::SUCCESS;
    }
    if let Err(e) =
        std::fs::create_dir_all(out.parent().unwrap()).and_then(|_| std::fs::write(&out, json))
    {
        eprintln!("idl-gen: write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!("idl-gen: wrote {}", out.display());
    ExitCode::SUCCESS
}
