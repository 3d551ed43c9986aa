//! `localnet`: an offline Solana JSON-RPC test chain (surfpool-core 1.6.1, the Agave 4.2.2
//! runtime in LiteSVM 0.16) with the upgrade-governor program registered natively at its
//! declared id, or loaded from an SBF ELF.

use {
    native_svm::upgradeable_program_accounts,
    solana_pubkey::Pubkey,
    std::{
        io::Write,
        path::{Path, PathBuf},
        process::ExitCode,
        str::FromStr,
        time::Duration,
    },
    surfpool_core::{
        solana_account::Account,
        surfnet::svm::{SurfnetSvm, SurfnetSvmConfig},
    },
    surfpool_types::{
        BlockProductionMode, RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig,
        SvmFeatureConfig,
    },
};

const USAGE: &str = "\
usage: localnet [options]

  --rpc-port PORT          JSON-RPC port (default 8899)
  --ws-port PORT           WebSocket (pubsub) port (default 8900)
  --host HOST              address to bind (default 127.0.0.1)
  --governor-elf PATH      load upgrade-governor from this SBF ELF (e.g. anchor build output)
                           instead of the natively compiled program; deployed under the
                           upgradeable loader with no upgrade authority
  --upgradeable-program ADDRESS PATH AUTHORITY
                           preload the ELF at PATH as an upgradeable program at ADDRESS with
                           upgrade authority AUTHORITY (a pubkey, a keypair file, or `none`);
                           ADDRESS may be a keypair file too. Repeatable.
  --airdrop PUBKEY         fund PUBKEY at start (repeatable)
  --airdrop-lamports N     lamports per --airdrop (default 1000 SOL)
  --slot-time-ms MS        slot duration (default 250, surfpool's default)
  --log-transactions       print every processed transaction and its logs (costs ~20 %)
  --profiling              turn surfpool's per-instruction profiling back on (slow; for
                           debugging only)
  -h, --help               this text

Prints `localnet ready rpc=... ws=... governor=<id>` once serving; SIGINT/SIGTERM stop it
(exit code 0).";

const DEFAULT_AIRDROP_LAMPORTS: u64 = 1_000 * 1_000_000_000;

struct UpgradeableProgram {
    address: Pubkey,
    path: PathBuf,
    authority: Option<Pubkey>,
}

struct Args {
    rpc_port: u16,
    ws_port: u16,
    host: String,
    governor_elf: Option<PathBuf>,
    upgradeable_programs: Vec<UpgradeableProgram>,
    airdrops: Vec<Pubkey>,
    airdrop_lamports: u64,
    slot_time_ms: u64,
    log_transactions: bool,
    profiling: bool,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            rpc_port: 8899,
            ws_port: 8900,
            host: "127.0.0.1".to_string(),
            governor_elf: None,
            upgradeable_programs: Vec::new(),
            airdrops: Vec::new(),
            airdrop_lamports: DEFAULT_AIRDROP_LAMPORTS,
            slot_time_ms: surfpool_types::DEFAULT_SLOT_TIME_MS,
            log_transactions: false,
            profiling: false,
        }
    }
}

/// A base58 pubkey, or the pubkey of a `solana-keygen` JSON keypair file.
fn parse_pubkey(text: &str) -> Result<Pubkey, String> {
    if let Ok(pubkey) = Pubkey::from_str(text) {
        return Ok(pubkey);
    }
    let json = std::fs::read_to_string(text)
        .map_err(|e| format!("{text:?} is neither a pubkey nor a readable keypair file: {e}"))?;
    let bytes: Vec<u8> = serde_json::from_str(&json)
        .map_err(|e| format!("{text}: not a keypair file (JSON array of 64 bytes): {e}"))?;
    if bytes.len() != 64 {
        return Err(format!(
            "{text}: a keypair file holds 64 bytes, not {}",
            bytes.len()
        ));
    }
    Ok(Pubkey::new_from_array(bytes[32..].try_into().unwrap()))
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    fn value(argv: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
        argv.next().ok_or_else(|| format!("{flag} needs a value"))
    }
    fn number<T: FromStr>(text: String, flag: &str) -> Result<T, String> {
        text.parse()
            .map_err(|_| format!("{flag}: {text:?} is not a valid number"))
    }
    let mut args = Args::default();
    while let Some(flag) = argv.next() {
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--rpc-port" => args.rpc_port = number(value(&mut argv, &flag)?, &flag)?,
            "--ws-port" => args.ws_port = number(value(&mut argv, &flag)?, &flag)?,
            "--host" => args.host = value(&mut argv, &flag)?,
            "--governor-elf" => args.governor_elf = Some(value(&mut argv, &flag)?.into()),
            "--upgradeable-program" => {
                let address = parse_pubkey(&value(&mut argv, &flag)?)?;
                let path = PathBuf::from(value(&mut argv, &flag)?);
                let authority = match value(&mut argv, &flag)?.as_str() {
                    "none" => None,
                    text => Some(parse_pubkey(text)?),
                };
                args.upgradeable_programs.push(UpgradeableProgram {
                    address,
                    path,
                    authority,
                });
            }
            "--airdrop" => args.airdrops.push(parse_pubkey(&value(&mut argv, &flag)?)?),
            "--airdrop-lamports" => {
                args.airdrop_lamports = number(value(&mut argv, &flag)?, &flag)?
            }
            "--slot-time-ms" => {
                args.slot_time_ms = number(value(&mut argv, &flag)?, &flag)?;
                if args.slot_time_ms == 0 {
                    return Err("--slot-time-ms must be at least 1".to_string());
                }
            }
            "--log-transactions" => args.log_transactions = true,
            "--profiling" => args.profiling = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(args))
}

/// Stores an upgradeable program (ProgramData, then Program: storing the Program account
/// loads the ELF, so a bad ELF is reported here).
fn deploy(
    svm: &mut SurfnetSvm,
    address: Pubkey,
    path: &Path,
    authority: Option<Pubkey>,
) -> Result<(), String> {
    let elf = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let slot = svm.get_latest_absolute_slot();
    let accounts: [(Pubkey, Account); 2] = {
        let rent = |len| svm.inner.minimum_balance_for_rent_exemption(len);
        upgradeable_program_accounts(&address, &elf, authority, slot, &rent)
    };
    for (key, account) in accounts {
        svm.set_account(&key, account)
            .map_err(|e| format!("{} at {address}: {e}", path.display()))?;
    }
    Ok(())
}

/// Blocks SIGINT and SIGTERM in this thread and every thread spawned after it, so that one
/// thread can wait for them with `sigwait`. Call first thing in `main`.
fn block_termination_signals() -> libc::sigset_t {
    // SAFETY: plain libc signal-mask calls on a zeroed, initialised set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn wait_for_signal(set: libc::sigset_t) -> &'static str {
    let mut signal = 0;
    // SAFETY: `set` holds the signals blocked in every thread.
    unsafe { libc::sigwait(&set, &mut signal) };
    if signal == libc::SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    }
}

fn print_transaction(
    meta: &surfpool_types::TransactionMetadata,
    err: &Option<impl std::fmt::Debug>,
) {
    let mut out = std::io::stdout().lock();
    let status = match err {
        None => "ok".to_string(),
        Some(err) => format!("err={err:?}"),
    };
    let _ = writeln!(
        out,
        "tx {} {} cu={}",
        meta.signature, status, meta.compute_units_consumed
    );
    for line in &meta.logs {
        let _ = writeln!(out, "  {line}");
    }
}

fn run(args: Args, signals: libc::sigset_t) -> Result<(), String> {
    let (mut svm, events, geyser_events) = SurfnetSvm::new(SurfnetSvmConfig {
        slot_time: args.slot_time_ms,
        instruction_profiling_enabled: args.profiling,
        // Mainnet baseline: SBPF v0 deploys and upgrades stay allowed.
        feature_config: SvmFeatureConfig::default(),
        ..SurfnetSvmConfig::default()
    })
    .map_err(|e| format!("cannot create the surfnet: {e}"))?;

    let governor = upgrade_governor::ID;
    match &args.governor_elf {
        None => {
            native_svm::register_native_entry(governor, upgrade_governor::entry);
            svm.inner
                .svm
                .add_builtin(governor, native_svm::builtin_registerer());
        }
        Some(path) => deploy(&mut svm, governor, path, None)?,
    }
    for program in &args.upgradeable_programs {
        deploy(&mut svm, program.address, &program.path, program.authority)?;
    }

    let config = SurfpoolConfig {
        simnets: vec![SimnetConfig {
            // Offline: the default is a fork of mainnet through a public RPC.
            offline_mode: true,
            remote_rpc_url: None,
            slot_time: args.slot_time_ms,
            block_production_mode: BlockProductionMode::Clock,
            airdrop_addresses: args.airdrops.clone(),
            airdrop_token_amount: args.airdrop_lamports,
            instruction_profiling_enabled: args.profiling,
            ..SimnetConfig::default()
        }],
        rpc: RpcConfig {
            bind_host: args.host.clone(),
            bind_port: args.rpc_port,
            ws_port: args.ws_port,
            ..RpcConfig::default()
        },
        ..SurfpoolConfig::default()
    };

    let (commands_tx, commands_rx) = surfpool_types::channel::unbounded();
    let runloop_commands = commands_tx.clone();
    let runloop = std::thread::Builder::new()
        .name("surfnet".to_string())
        .spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("tokio runtime: {e}"))?;
            runtime
                .block_on(surfpool_core::start_local_surfnet(
                    svm,
                    config,
                    runloop_commands,
                    commands_rx,
                    geyser_events,
                ))
                .map_err(|e| e.to_string())
        })
        .map_err(|e| format!("cannot start the surfnet thread: {e}"))?;

    std::thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            let signal = wait_for_signal(signals);
            eprintln!("localnet: {signal}, stopping");
            let _ = commands_tx.send(SimnetCommand::Terminate(None));
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;

    // Drain the event channel (the runloop blocks on some events when nobody reads).
    let mut ready = false;
    loop {
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(SimnetEvent::CoreStarted(_)) if !ready => {
                ready = true;
                println!(
                    "localnet ready rpc=http://{host}:{rpc} ws=ws://{host}:{ws} governor={governor}",
                    host = args.host,
                    rpc = args.rpc_port,
                    ws = args.ws_port,
                );
                let _ = std::io::stdout().flush();
            }
            Ok(SimnetEvent::TransactionProcessed(_, meta, err)) if args.log_transactions => {
                print_transaction(&meta, &err)
            }
            Ok(SimnetEvent::ErrorLog(_, message)) => eprintln!("localnet: error: {message}"),
            Ok(SimnetEvent::WarnLog(_, message)) => eprintln!("localnet: warning: {message}"),
            Ok(SimnetEvent::Aborted(message)) => eprintln!("localnet: aborted: {message}"),
            Ok(_) => {}
            Err(surfpool_types::channel::RecvTimeoutError::Timeout) => {
                if runloop.is_finished() {
                    break;
                }
            }
            Err(surfpool_types::channel::RecvTimeoutError::Disconnected) => break,
        }
    }
    match runloop.join() {
        Ok(Ok(())) if ready => Ok(()),
        Ok(Ok(())) => Err("the surfnet stopped before it was ready".to_string()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("the surfnet thread panicked".to_string()),
    }
}

fn main() -> ExitCode {
    let signals = block_termination_signals();
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("localnet: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args, signals) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("localnet: {e}");
            ExitCode::FAILURE
        }
    }
}
