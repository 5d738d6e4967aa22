//! The errno values `hayride:silo`'s `err-no` carries: the host's own numbering (libc's).

/// `hayride:silo/types.err-no`.
pub(crate) type ErrNo = u32;

pub(crate) const ENOENT: ErrNo = libc::ENOENT as ErrNo;
pub(crate) const ESRCH: ErrNo = libc::ESRCH as ErrNo;
pub(crate) const EINTR: ErrNo = libc::EINTR as ErrNo;
pub(crate) const EIO: ErrNo = libc::EIO as ErrNo;
pub(crate) const EINVAL: ErrNo = libc::EINVAL as ErrNo;

/// The errno of `e`, or `otherwise` when it carries none.
pub(crate) fn of(e: &std::io::Error, otherwise: ErrNo) -> ErrNo {
    e.raw_os_error().map_or(otherwise, |n| n as ErrNo)
}
