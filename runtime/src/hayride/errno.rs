//! The errno values `hayride:silo`'s `err-no` carries: the host's own numbering (libc's).

use super::bindings::hayride::silo::types::ErrNo;

pub(super) const ENOENT: ErrNo = libc::ENOENT as ErrNo;
pub(super) const ESRCH: ErrNo = libc::ESRCH as ErrNo;
pub(super) const EINTR: ErrNo = libc::EINTR as ErrNo;
pub(super) const EIO: ErrNo = libc::EIO as ErrNo;
pub(super) const EINVAL: ErrNo = libc::EINVAL as ErrNo;

/// The errno of `e`, or `otherwise` when it carries none.
pub(super) fn of(e: &std::io::Error, otherwise: ErrNo) -> ErrNo {
    e.raw_os_error().map_or(otherwise, |n| n as ErrNo)
}
