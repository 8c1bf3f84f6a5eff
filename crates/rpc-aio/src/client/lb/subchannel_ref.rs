//! [`Subchannel`]: a policy's handle on one subchannel (the connection to one address).

use crate::client::resolver::Address;
use crate::client::subchannel::Core;
use rpc_core::ChannelConnectivity;
use std::fmt;
use std::sync::Arc;

/// A handle on one subchannel: the connection to one address, with its own connectivity
/// state and reconnect backoff. Cheap to clone; clones are equal (and hash equal).
///
/// # Drop behavior
/// When the last clone is dropped (the policy let go of it, and no picker holds it), the
/// subchannel stops reconnecting and its connection closes once the calls on it are done.
#[derive(Clone)]
pub struct Subchannel {
    owner: Arc<Owner>,
}

struct Owner {
    core: Arc<Core>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.core.release();
    }
}

impl Subchannel {
    pub(crate) fn new(core: Arc<Core>) -> Subchannel {
        Subchannel {
            owner: Arc::new(Owner { core }),
        }
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.owner.core
    }

    /// The address it connects to.
    pub fn address(&self) -> &Address {
        self.owner.core.address()
    }

    /// Its connectivity state now.
    pub fn state(&self) -> ChannelConnectivity {
        self.owner.core.state()
    }

    /// Starts connecting if it is IDLE (no connection, none being made, no backoff to wait
    /// out); does nothing otherwise.
    pub fn connect(&self) {
        self.owner.core.connect();
    }

    /// Why its last connection attempt failed, if it did.
    pub fn last_error(&self) -> Option<String> {
        self.owner.core.last_error()
    }

    pub(crate) fn id(&self) -> u64 {
        self.owner.core.id()
    }

    /// A handle that does not keep the subchannel alive.
    pub(crate) fn downgrade(&self) -> WeakSubchannel {
        WeakSubchannel(Arc::downgrade(&self.owner))
    }
}

/// A [`Subchannel`] that may have been let go of.
pub(crate) struct WeakSubchannel(std::sync::Weak<Owner>);

impl WeakSubchannel {
    pub(crate) fn upgrade(&self) -> Option<Subchannel> {
        self.0.upgrade().map(|owner| Subchannel { owner })
    }
}

impl PartialEq for Subchannel {
    fn eq(&self, other: &Subchannel) -> bool {
        Arc::ptr_eq(&self.owner, &other.owner)
    }
}

impl Eq for Subchannel {}

impl std::hash::Hash for Subchannel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.owner) as usize).hash(state);
    }
}

impl fmt::Debug for Subchannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subchannel")
            .field("address", &self.address().to_string())
            .field("state", &self.state())
            .finish()
    }
}
