//! The `localnet` binary end to end over JSON-RPC: it starts offline, serves the natively
//! registered governance program, moves its clock with `surfnet_timeTravel`, stops on
//! SIGTERM with exit code 0, and lists a program's accounts right (and at a flat cost per
//! write) with the patched surfpool-core owner index.

use {
    anchor_lang::{InstructionData, ToAccountMetas},
    serde_json::{json, Value},
    solana_hash::Hash,
    solana_keypair::Keypair,
    solana_pubkey::Pubkey,
    solana_signer::Signer,
    solana_transaction::Transaction,
    std::{
        io::{BufRead, BufReader, Read, Write},
        net::{TcpListener, TcpStream},
        process::{Child, Command, Stdio},
        str::FromStr,
        time::{Duration, Instant},
    },
    upgrade_governor::{accounts, instruction, InitializeMultisigArgs},
};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Localnet {
    child: Child,
    rpc_port: u16,
}

impl Localnet {
    fn start(extra: &[&str]) -> Self {
        let rpc_port = free_port();
        let ws_port = free_port();
        // LOCALNET_TEST_BIN runs these tests against another build, e.g. one of unpatched
        // surfpool-core, to compare the figures `owner_index_...` prints.
        let bin = std::env::var("LOCALNET_TEST_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_localnet").to_string());
        let mut child = Command::new(bin)
            .args(["--rpc-port", &rpc_port.to_string()])
            .args(["--ws-port", &ws_port.to_string()])
            .args(["--slot-time-ms", "50"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start localnet");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(
            line.trim_end(),
            format!(
                "localnet ready rpc=http://127.0.0.1:{rpc_port} ws=ws://127.0.0.1:{ws_port} governor={}",
                upgrade_governor::ID
            )
        );
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Localnet { child, rpc_port }
    }

    fn rpc(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let value = self.post(&body);
        if let Some(error) = value.get("error") {
            panic!("{method} failed: {error}");
        }
        value["result"].clone()
    }

    /// One JSON-RPC batch of `method` calls, one per params.
    fn batch(&self, method: &str, params: impl IntoIterator<Item = Value>) {
        let calls: Vec<Value> = params
            .into_iter()
            .enumerate()
            .map(|(id, p)| json!({"jsonrpc": "2.0", "id": id, "method": method, "params": p}))
            .collect();
        let answers = self.post(&Value::Array(calls.clone()));
        let answers = answers.as_array().expect("a batch answer");
        assert_eq!(answers.len(), calls.len());
        for answer in answers {
            assert!(answer.get("error").is_none(), "{method} failed: {answer}");
        }
    }

    fn post(&self, body: &Value) -> Value {
        let body = body.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.rpc_port)).unwrap();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let json = response.split("\r\n\r\n").nth(1).expect("an HTTP body");
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    fn blockhash(&self) -> Hash {
        let result = self.rpc("getLatestBlockhash", json!([]));
        Hash::from_str(result["value"]["blockhash"].as_str().unwrap()).unwrap()
    }

    /// Sends and waits until confirmed; returns the `getTransaction` result.
    fn send(&self, tx: &Transaction) -> Value {
        use base64::Engine;
        let wire =
            base64::engine::general_purpose::STANDARD.encode(bincode::serialize(tx).unwrap());
        let signature = self.rpc("sendTransaction", json!([wire, {"encoding": "base64"}]));
        let signature = signature.as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = self.rpc("getSignatureStatuses", json!([[signature]]));
            let status = &status["value"][0];
            if status["confirmationStatus"] == "confirmed"
                || status["confirmationStatus"] == "finalized"
            {
                break;
            }
            assert!(Instant::now() < deadline, "{signature} not confirmed");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.rpc(
            "getTransaction",
            json!([signature, {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}]),
        )
    }

    fn stop(mut self) -> std::process::ExitStatus {
        // SAFETY: plain kill(2) on our child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "localnet did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn pda(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &upgrade_governor::ID).0
}

/// The governance program's event, emitted by `emit_cpi!` as a self-invocation: its data is
/// the event-CPI tag, the event discriminator, then the Borsh fields.
fn events(tx: &Value) -> Vec<Vec<u8>> {
    let keys = tx["transaction"]["message"]["accountKeys"]
        .as_array()
        .unwrap();
    let governor = upgrade_governor::ID.to_string();
    tx["meta"]["innerInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|inner| inner["instructions"].as_array().unwrap().clone())
        .filter(|ix| keys[ix["programIdIndex"].as_u64().unwrap() as usize] == governor.as_str())
        .map(|ix| {
            bs58::decode(ix["data"].as_str().unwrap())
                .into_vec()
                .unwrap()
        })
        .filter(|data| data.starts_with(anchor_lang::event::EVENT_IX_TAG_LE))
        .collect()
}

#[test]
fn serves_the_native_governor_over_json_rpc() {
    let payer = Keypair::new();
    let net = Localnet::start(&["--airdrop", &payer.pubkey().to_string()]);

    let version = net.rpc("getVersion", json!([]));
    assert_eq!(version["solana-core"], "4.2.2");
    assert_eq!(net.rpc("getHealth", json!([])), "ok");
    assert_eq!(
        net.rpc("getBalance", json!([payer.pubkey().to_string()]))["value"],
        1_000_000_000_000u64
    );
    let other = Keypair::new();
    net.rpc(
        "requestAirdrop",
        json!([other.pubkey().to_string(), 2_000_000_000u64]),
    );
    let program = net.rpc(
        "getAccountInfo",
        json!([upgrade_governor::ID.to_string(), {"encoding": "base64"}]),
    );
    assert_eq!(program["value"]["executable"], true);
    assert_eq!(
        program["value"]["owner"],
        "NativeLoader1111111111111111111111111111111"
    );

    // A real transaction into the native program: init a multisig.
    let create_key = Keypair::new();
    let multisig = pda(&[b"multisig", create_key.pubkey().as_ref()]);
    let authority = pda(&[b"authority", multisig.as_ref()]);
    let event_authority = pda(&[b"__event_authority"]);
    let init = anchor_lang::solana_program::instruction::Instruction {
        program_id: upgrade_governor::ID,
        accounts: accounts::InitializeMultisig {
            create_key: create_key.pubkey(),
            multisig,
            authority,
            payer: payer.pubkey(),
            system_program: anchor_lang::solana_program::system_program::ID,
            event_authority,
            program: upgrade_governor::ID,
        }
        .to_account_metas(None),
        data: instruction::InitializeMultisig {
            args: InitializeMultisigArgs {
                members: vec![payer.pubkey()],
                threshold: 1,
                timelock_seconds: 48 * 3600,
                proposal_lifetime_seconds: 7 * 24 * 3600,
                guardian: payer.pubkey(),
                grace_seconds: 14 * 24 * 3600,
                max_pause_seconds: 72 * 3600,
                pause_cooldown_seconds: 7 * 24 * 3600,
            },
        }
        .data(),
    };
    let tx = Transaction::new_signed_with_payer(
        &[init],
        Some(&payer.pubkey()),
        &[&payer, &create_key],
        net.blockhash(),
    );
    let result = net.send(&tx);
    assert_eq!(result["meta"]["err"], Value::Null, "{result}");
    assert_eq!(events(&result).len(), 1, "the emit_cpi! event: {result}");
    let account = net.rpc(
        "getAccountInfo",
        json!([multisig.to_string(), {"encoding": "base64"}]),
    );
    assert_eq!(account["value"]["owner"], upgrade_governor::ID.to_string());

    // Time travel: the program's Clock::get() sees the new time.
    let target_ms: u64 = 4_102_444_800_000; // 2100-01-01
    net.rpc(
        "surfnet_timeTravel",
        json!([{"absoluteTimestamp": target_ms}]),
    );
    let pause = anchor_lang::solana_program::instruction::Instruction {
        program_id: upgrade_governor::ID,
        accounts: accounts::PauseSystem {
            multisig,
            pauser: payer.pubkey(),
            event_authority,
            program: upgrade_governor::ID,
        }
        .to_account_metas(None),
        data: instruction::PauseSystem {}.data(),
    };
    let tx = Transaction::new_signed_with_payer(
        &[pause],
        Some(&payer.pubkey()),
        &[&payer],
        net.blockhash(),
    );
    let result = net.send(&tx);
    assert_eq!(result["meta"]["err"], Value::Null, "{result}");
    let events = events(&result);
    assert_eq!(events.len(), 1);
    // tag (8) + discriminator (8) + multisig (32) + paused_by (32) + at (i64) + expires_at
    // (i64): the pauser is the only member of a 1-of-1 multisig, so the pause never lapses.
    let at = i64::from_le_bytes(events[0][80..88].try_into().unwrap());
    let expires_at = i64::from_le_bytes(events[0][88..96].try_into().unwrap());
    assert_eq!(expires_at, i64::MAX);
    let target = (target_ms / 1000) as i64;
    assert!(
        (target..target + 60).contains(&at),
        "the program saw {at}, time travel went to {target}"
    );

    let status = net.stop();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn preloads_upgradeable_programs_and_reports_bad_arguments() {
    let elf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/governed-counter/elf/governed_counter_v1.so"
    );
    if !std::path::Path::new(elf).exists() {
        eprintln!("governed-counter ELF not built: skipped");
        return;
    }
    let program = Keypair::new().pubkey();
    let authority = Keypair::new().pubkey();
    let net = Localnet::start(&[
        "--upgradeable-program",
        &program.to_string(),
        elf,
        &authority.to_string(),
    ]);
    let account = net.rpc(
        "getAccountInfo",
        json!([program.to_string(), {"encoding": "jsonParsed"}]),
    );
    assert_eq!(
        account["value"]["owner"],
        "BPFLoaderUpgradeab1e11111111111111111111111"
    );
    assert_eq!(account["value"]["executable"], true);
    let programdata = account["value"]["data"]["parsed"]["info"]["programData"]
        .as_str()
        .unwrap()
        .to_string();
    let data = net.rpc(
        "getAccountInfo",
        json!([programdata, {"encoding": "jsonParsed"}]),
    );
    let info = &data["value"]["data"]["parsed"]["info"];
    assert_eq!(info["authority"], authority.to_string(), "{data}");
    assert_eq!(net.stop().code(), Some(0));

    let output = Command::new(env!("CARGO_BIN_EXE_localnet"))
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(env!("CARGO_BIN_EXE_localnet"))
        .args(["--governor-elf", "/nonexistent.so"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

/// `surfnet_setAccount` params: the whole account, so the cheatcode sets it as given (an
/// all-default account, lamports 0 and owned by the system program, is a close).
fn set_account(pubkey: &Pubkey, owner: &Pubkey, lamports: u64, data: &[u8]) -> Value {
    let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
    json!([pubkey.to_string(), {
        "lamports": lamports,
        "owner": owner.to_string(),
        "executable": false,
        "rentEpoch": 0,
        "data": hex,
    }])
}

/// getProgramAccounts of `program` as the worker asks it (a zero-length dataSlice), with a
/// memcmp of `first` at offset 0 when given: the keys, sorted.
fn program_account_keys(net: &Localnet, program: &Pubkey, first: Option<u8>) -> Vec<Pubkey> {
    let mut config = json!({"encoding": "base64", "dataSlice": {"offset": 0, "length": 0}});
    if let Some(byte) = first {
        config["filters"] =
            json!([{"memcmp": {"offset": 0, "bytes": bs58::encode([byte]).into_string()}}]);
    }
    let result = net.rpc("getProgramAccounts", json!([program.to_string(), config]));
    let mut keys: Vec<Pubkey> = result
        .as_array()
        .expect("an array of keyed accounts")
        .iter()
        .map(|keyed| {
            assert_eq!(keyed["account"]["data"][0], "", "the dataSlice is empty");
            Pubkey::from_str(keyed["pubkey"].as_str().unwrap()).unwrap()
        })
        .collect();
    keys.sort();
    keys
}

/// surfpool-core 1.6.1 re-copied a program's whole account list on every write to one of its
/// accounts; the patched index (patches/surfpool-core-1.6.1-owner-index.patch) must give the
/// same getProgramAccounts answers after creates, rewrites, a close and an owner change, at a
/// cost per write that does not grow with the count. The rates are printed (run with
/// --nocapture; LOCALNET_OWNER_INDEX_ACCOUNTS sets the count), never asserted.
#[test]
fn owner_index_lists_program_accounts_through_creates_rewrites_close_and_owner_change() {
    let count: usize = std::env::var("LOCALNET_OWNER_INDEX_ACCOUNTS")
        .map(|v| v.parse().expect("LOCALNET_OWNER_INDEX_ACCOUNTS: a count"))
        .unwrap_or(20_000);
    const BATCH: usize = 500;
    const LAMPORTS: u64 = 1_000_000;
    let net = Localnet::start(&[]);
    let program = Pubkey::new_unique();
    let other_program = Pubkey::new_unique();
    let accounts: Vec<Pubkey> = (0..count).map(|_| Pubkey::new_unique()).collect();
    let data = |version: u8, i: usize| {
        let mut data = vec![version];
        data.extend_from_slice(&(i as u64).to_le_bytes());
        data
    };

    // Writes every account in batches, printing the rate of each fifth of the run.
    let write_all = |what: &str, version: u8| {
        let fifth = count.div_ceil(5).max(1);
        let (mut from, mut started) = (0, Instant::now());
        for (n, chunk) in accounts.chunks(BATCH).enumerate() {
            net.batch(
                "surfnet_setAccount",
                chunk.iter().enumerate().map(|(j, pubkey)| {
                    set_account(pubkey, &program, LAMPORTS, &data(version, n * BATCH + j))
                }),
            );
            let done = n * BATCH + chunk.len();
            if done - from >= fifth || done == count {
                let rate = (done - from) as f64 / started.elapsed().as_secs_f64();
                println!("owner index: {what} accounts {from}..{done} of one program: {rate:.0}/s");
                (from, started) = (done, Instant::now());
            }
        }
    };

    let mut expected = accounts.clone();
    expected.sort();
    write_all("created", 1);
    assert_eq!(program_account_keys(&net, &program, None), expected);

    // Rewrite every account's data (same owner); the memcmp filter sees the new bytes.
    write_all("rewrote", 2);
    assert_eq!(program_account_keys(&net, &program, Some(2)), expected);
    assert!(program_account_keys(&net, &program, Some(1)).is_empty());

    // Close one: lamports 0, no data, owned by the system program.
    let closed = accounts[count / 3];
    net.rpc(
        "surfnet_setAccount",
        set_account(&closed, &Pubkey::default(), 0, &[]),
    );
    let info = net.rpc(
        "getAccountInfo",
        json!([closed.to_string(), {"encoding": "base64"}]),
    );
    assert_eq!(info["value"], Value::Null, "closed: {info}");
    // Hand another to a different program.
    let moved = accounts[count / 2];
    net.rpc(
        "surfnet_setAccount",
        set_account(&moved, &other_program, LAMPORTS, &data(2, count / 2)),
    );
    expected.retain(|k| *k != closed && *k != moved);
    assert_eq!(program_account_keys(&net, &program, None), expected);
    assert_eq!(program_account_keys(&net, &program, Some(2)), expected);
    assert_eq!(
        program_account_keys(&net, &other_program, None),
        vec![moved]
    );

    // Full data still comes back right (no dataSlice).
    let full = net.rpc(
        "getProgramAccounts",
        json!([other_program.to_string(), {"encoding": "base64"}]),
    );
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(full[0]["account"]["data"][0].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, data(2, count / 2));

    // Re-creating the closed account lists it again, once.
    net.rpc(
        "surfnet_setAccount",
        set_account(&closed, &program, LAMPORTS, &data(1, count / 3)),
    );
    assert_eq!(program_account_keys(&net, &program, Some(1)), vec![closed]);
    expected.push(closed);
    expected.sort();
    assert_eq!(program_account_keys(&net, &program, None), expected);
    assert_eq!(net.stop().code(), Some(0));
}
