//! Killing a subprocess together with everything it started.
//!
//! `claude` is a Node program that starts helpers of its own (tool shells, MCP servers). Killing
//! only the direct child on a timeout left those running, still holding our pipes. The child is
//! therefore started as the leader of a new process group, and this guard kills the whole group
//! with SIGKILL on a timeout and when the call is dropped midway (a cancelled task). After a
//! normal exit the guard is disarmed: the group is left alone.

use tokio::process::Command;

/// Makes `command` start its child as the leader of a new process group (Unix; elsewhere a no-op).
pub fn in_own_group(command: &mut Command) -> &mut Command {
    #[cfg(unix)]
    command.process_group(0);
    command
}

/// Kills a process group when told to or when dropped, unless disarmed.
#[derive(Debug)]
pub struct GroupKiller {
    /// The group id (= the leader's pid), while armed.
    pgid: Option<u32>,
}

impl GroupKiller {
    /// Arms a guard for the group led by `leader` (None: nothing to kill, e.g. it already exited).
    pub fn new(leader: Option<u32>) -> Self {
        GroupKiller { pgid: leader }
    }

    /// SIGKILL to every process of the group, once.
    pub fn kill(&mut self) {
        let Some(pgid) = self.pgid.take() else {
            return;
        };
        #[cfg(unix)]
        if let Ok(pgid) = i32::try_from(pgid) {
            // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
            let rc = unsafe { libc::kill(-pgid, libc::SIGKILL) };
            if rc != 0 {
                tracing::debug!(pgid, error = %std::io::Error::last_os_error(), "process group already gone");
            }
        }
        #[cfg(not(unix))]
        let _ = pgid;
    }

    /// The call finished normally: leave the group alone.
    pub fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}
