//! What a panic prints. A panic is a bug in tellonce, and its message may hold values: a
//! formatted message or an `unwrap` on an error quotes whatever it was given, and on a data path
//! that can be a clear identifier. So the report names where the bug is and withholds any
//! message that was formatted at run time; a message written as a literal in the source (it
//! cannot hold data) is shown. The command then ends with exit 1 ([`crate::exit::Exit::Internal`]).

use std::panic::PanicHookInfo;

/// Replaces the default panic report (which prints the message) with [`report`].
pub fn install() {
    std::panic::set_hook(Box::new(|info| errln!("{}", report(info))));
}

/// One line: the place of the panic and its message if it is a source literal.
fn report(info: &PanicHookInfo<'_>) -> String {
    let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    let thread = std::thread::current();
    let thread = thread.name().map(|n| format!(" in thread '{n}'")).unwrap_or_default();
    let message = match info.payload().downcast_ref::<&'static str>() {
        Some(literal) => format!(": {literal}"),
        None => " (its message is withheld: it may quote data)".to_owned(),
    };
    format!(
        "tellonce: internal error{thread}{place}{message}. This is a bug; please report it with the command you ran."
    )
}
