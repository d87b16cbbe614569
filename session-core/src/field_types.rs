//! What `#[derive(Session)]` asks of a field's type, as traits whose failures name the
//! attribute: an owner id for `#[session(owner)]`, `Copy` for `#[session(copy)]`.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

/// A type that can say whose session it is: the field marked `#[session(owner)]`.
///
/// Implemented for strings and integers up to 64 bits, for an `Option` of one (`None`: an
/// anonymous session), and for references and smart pointers to one. A newtype around an id
/// implements it in one line:
///
/// ```
/// # use sessionkit::OwnerId;
/// struct UserId(u64);
/// impl OwnerId for UserId {
///     fn owner_id(&self) -> Option<String> {
///         self.0.owner_id()
///     }
/// }
/// assert_eq!(UserId(7).owner_id().as_deref(), Some("7"));
/// ```
///
/// A `bool` owner would make every logged-in session belong to `"true"`, and a `Vec` would be
/// no owner at all: such fields do not compile.
#[diagnostic::on_unimplemented(
    message = "`#[session(owner)]` needs a string or integer id, and `{Self}` is not one",
    label = "not an owner id",
    note = "use `String`, an integer up to 64 bits, or an `Option` of one; a newtype implements `sessionkit::OwnerId`"
)]
pub trait OwnerId {
    /// The owner's id as the store indexes it; `None` for an anonymous session.
    fn owner_id(&self) -> Option<String>;
}

impl OwnerId for str {
    fn owner_id(&self) -> Option<String> {
        Some(self.to_owned())
    }
}

impl OwnerId for String {
    fn owner_id(&self) -> Option<String> {
        Some(self.clone())
    }
}

macro_rules! integer_ids {
    ($($t:ty)*) => {$(
        impl OwnerId for $t {
            fn owner_id(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}

integer_ids!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize);

impl<T: OwnerId> OwnerId for Option<T> {
    fn owner_id(&self) -> Option<String> {
        self.as_ref()?.owner_id()
    }
}

impl<T: OwnerId + ?Sized> OwnerId for &T {
    fn owner_id(&self) -> Option<String> {
        (**self).owner_id()
    }
}

impl<T: OwnerId + ?Sized> OwnerId for Box<T> {
    fn owner_id(&self) -> Option<String> {
        (**self).owner_id()
    }
}

impl<T: OwnerId + ?Sized> OwnerId for Arc<T> {
    fn owner_id(&self) -> Option<String> {
        (**self).owner_id()
    }
}

impl<T: OwnerId + ?Sized> OwnerId for Rc<T> {
    fn owner_id(&self) -> Option<String> {
        (**self).owner_id()
    }
}

impl OwnerId for Cow<'_, str> {
    fn owner_id(&self) -> Option<String> {
        Some(self.clone().into_owned())
    }
}

/// A session with a `HashSet` field: a set serializes in a different order each time, so
/// only `==` tells an unchanged session from a changed one.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a session with a `HashSet` field must implement `PartialEq`, or every request that borrows it is sent as a change",
    label = "add `PartialEq` to its derives",
    note = "a set serializes in a different order each time; derive `PartialEq` on the session (and the types in it), or use `BTreeSet`"
)]
pub trait ComparesSets {}

impl<T: PartialEq> ComparesSets for T {}

/// The getter of a `#[session(copy)]` field returns the value, so its type must be `Copy`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`#[session(copy)]` needs a `Copy` type, and `{Self}` is not `Copy`",
    label = "not `Copy`",
    note = "remove `copy`: the getter then returns a reference"
)]
pub trait CopyField {
    /// The value, copied out of the field.
    #[must_use]
    fn copied(&self) -> Self;
}

impl<T: Copy> CopyField for T {
    fn copied(&self) -> Self {
        *self
    }
}
