//! The stand-in for a platform that is not configured, so the engine can say why it was skipped.
//!
//! Without it an unconfigured platform simply had no adapter, the engine could only say "no
//! adapter for claude", and the CLI rewrote that text with the real reason by string replacement
//! (which turned "no adapter for claude_code" into "… is not set_code"). With it every platform has
//! an adapter, and the reason is the environment's own message, as data.

use async_trait::async_trait;

use crate::{AdapterOutput, Platform, PlatformAdapter, PlatformError, PlatformStatus, Task};

/// A platform that cannot run anything, with the reason its configuration gave.
pub struct UnconfiguredAdapter {
    platform: Platform,
    status: PlatformStatus,
}

impl UnconfiguredAdapter {
    /// `status` is what [`crate::validate_environment`] said of `platform` (not configured).
    pub fn new(platform: Platform, status: PlatformStatus) -> Self {
        UnconfiguredAdapter { platform, status }
    }
}

#[async_trait]
impl PlatformAdapter for UnconfiguredAdapter {
    fn platform(&self) -> Platform {
        self.platform
    }

    fn status(&self) -> PlatformStatus {
        self.status.clone()
    }

    /// Never called by the engine (an unconfigured platform is skipped); refuses if called.
    async fn execute(&self, _task: &Task) -> Result<AdapterOutput, PlatformError> {
        Err(PlatformError::Auth {
            message: self.status.message.clone(),
        })
    }
}
