//! CPU time of a process (user + system), from `/proc/<pid>/stat`, to tell how much of
//! the machine the server (and the load generator itself) used during a run.

use anyhow::{Context, Result};

/// Linux reports `/proc` times in USER_HZ ticks, 100 a second on every mainstream arch.
const TICKS_PER_SEC: f64 = 100.0;

/// User + system CPU seconds `pid` has used so far.
pub fn cpu_secs(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    parse_stat(&stat).with_context(|| format!("unreadable /proc/{pid}/stat"))
}

/// This process's CPU seconds so far.
pub fn own_cpu_secs() -> Result<f64> {
    cpu_secs(std::process::id())
}

fn parse_stat(stat: &str) -> Option<f64> {
    // The command name (field 2) may contain spaces; fields after its closing ')' are plain.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// The 1-minute load average, as `/proc/loadavg` says.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_the_name() {
        let stat = "42 (my server) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3";
        assert_eq!(parse_stat(stat), Some(3.0));
    }

    #[test]
    fn reads_our_own() {
        assert!(own_cpu_secs().unwrap() >= 0.0);
        assert!(load_average() >= 0.0);
    }
}
