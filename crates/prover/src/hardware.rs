use zkpool_types::{HardwareReport, ProofSystem};

/// Reads this machine's cores, memory, OS and GPUs (through `nvidia-smi` when it is there).
pub fn detect_hardware(name: &str, systems: Vec<ProofSystem>) -> HardwareReport {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    let cpu_cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    let os = sysinfo::System::long_os_version().unwrap_or_else(|| std::env::consts::OS.to_string());
    HardwareReport {
        name: name.to_string(),
        os,
        cpu_cores,
        memory_bytes: sys.total_memory(),
        gpus: nvidia_gpus(),
        systems,
        jobs: 1,
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The machine's default name: its hostname.
pub fn default_name() -> String {
    sysinfo::System::host_name().unwrap_or_else(|| "prover".to_string())
}

fn nvidia_gpus() -> Vec<String> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name,memory.total", "--format=csv,noheader"])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_this_machine() {
        let hw = detect_hardware("rig", vec![ProofSystem::Groth16]);
        assert_eq!(hw.name, "rig");
        assert!(hw.cpu_cores >= 1);
        assert!(hw.memory_bytes > 0);
        assert!(!hw.os.is_empty());
    }
}
