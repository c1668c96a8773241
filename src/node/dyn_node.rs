//! [`DynNode`]: an object-safe view of a [`NodeCore`], so a driver (the simulator) can
//! hold nodes of any workload behind one type and feed them bytes and time.

use super::core::NodeCore;
use super::timers::Millis;
use super::transmit::Transmits;
use super::workload::Workload;

/// The driver-facing verbs of [`NodeCore`], without its type parameter.
pub trait DynNode: Send {
    /// See [`NodeCore::handle_input`].
    fn handle_input(&mut self, now: Millis, bytes: &[u8]);
    /// See [`NodeCore::handle_timeout`].
    fn handle_timeout(&mut self, now: Millis);
    /// See [`NodeCore::next_deadline`].
    fn next_deadline(&self) -> Option<Millis>;
    /// See [`NodeCore::take_output`].
    fn take_output(&mut self, into: &mut Vec<u8>);
    /// See [`NodeCore::record_transmits`].
    fn record_transmits(&mut self);
    /// See [`NodeCore::take_transmits`].
    fn take_transmits(&mut self, into: &mut Transmits);
    /// See [`NodeCore::input_held`].
    fn input_held(&self) -> bool;
    /// See [`NodeCore::resume_input`].
    fn resume_input(&mut self, now: Millis);
}

impl<W: Workload + Send> DynNode for NodeCore<W>
where
    W::Tag: Send,
{
    fn handle_input(&mut self, now: Millis, bytes: &[u8]) {
        NodeCore::handle_input(self, now, bytes)
    }

    fn handle_timeout(&mut self, now: Millis) {
        NodeCore::handle_timeout(self, now)
    }

    fn next_deadline(&self) -> Option<Millis> {
        NodeCore::next_deadline(self)
    }

    fn take_output(&mut self, into: &mut Vec<u8>) {
        NodeCore::take_output(self, into)
    }

    fn record_transmits(&mut self) {
        NodeCore::record_transmits(self)
    }

    fn take_transmits(&mut self, into: &mut Transmits) {
        NodeCore::take_transmits(self, into)
    }

    fn input_held(&self) -> bool {
        NodeCore::input_held(self)
    }

    fn resume_input(&mut self, now: Millis) {
        NodeCore::resume_input(self, now)
    }
}
