//! Each command of the app is declared once: its function, marked `#[app_command]`, and its line
//! in `src-tauri/src/command_table.rs`, read by `app_commands!`. The invoke handler, the
//! TypeScript wrapper (`ui/src/lib/bindings.ts`), the permission and the windows' capabilities
//! all come from those two; `build.rs` reads the same table for the last two.

use heck::ToLowerCamelCase;
use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    bracketed, parse_macro_input, Error, FnArg, Ident, ItemFn, Pat, ReturnType, Token, Type,
};

/// Arguments Tauri supplies itself: they are not part of what the UI sends.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "Webview", "WebviewWindow"];

/// A Tauri command (`#[tauri::command]`) together with its TypeScript signature, read from the
/// function's own: its name and argument names camelCased as Tauri reads them, their types
/// and the reply's through `crate::bindings::Wire` (test builds only, where ts-rs is).
#[proc_macro_attribute]
pub fn app_command(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return Error::new(
            proc_macro2::Span::call_site(),
            "#[app_command] takes no arguments: the command is called by its function's name",
        )
        .to_compile_error()
        .into();
    }
    let function = parse_macro_input!(item as ItemFn);
    match signature(&function) {
        Ok(signature) => quote! {
            #[::tauri::command]
            #function
            #signature
        }
        .into(),
        Err(err) => err.to_compile_error().into(),
    }
}

fn signature(function: &ItemFn) -> syn::Result<TokenStream2> {
    let name = &function.sig.ident;
    let command = name.to_string();
    let wrapper = command.to_lower_camel_case();
    let mut args = Vec::new();
    for input in &function.sig.inputs {
        let FnArg::Typed(arg) = input else {
            return Err(Error::new_spanned(input, "a command cannot take self"));
        };
        if is_injected(&arg.ty) {
            continue;
        }
        let Pat::Ident(pat) = &*arg.pat else {
            return Err(Error::new_spanned(
                &arg.pat,
                "name the argument: the UI sends it by name",
            ));
        };
        let key = pat.ident.to_string().to_lower_camel_case();
        let ty = &arg.ty;
        args.push(quote! { (#key, <#ty as crate::bindings::Wire>::ts(cfg)) });
    }
    let reply = match &function.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let signature_fn = signature_fn(name);
    Ok(quote! {
        #[cfg(test)]
        #[doc(hidden)]
        pub(crate) fn #signature_fn(cfg: &::ts_rs::Config) -> crate::bindings::Signature {
            crate::bindings::Signature {
                command: #command,
                wrapper: #wrapper,
                args: ::std::vec![#(#args),*],
                reply: <#reply as crate::bindings::Wire>::ts(cfg),
            }
        }
    })
}

fn signature_fn(command: &Ident) -> Ident {
    format_ident!("__signature_{}", command)
}

fn is_injected(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| INJECTED.iter().any(|name| last.ident == name)),
        Type::Reference(reference) => is_injected(&reference.elem),
        _ => false,
    }
}

/// One line of the table: `module::command: [window, …]`.
struct Entry {
    module: Ident,
    command: Ident,
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let module = input.parse()?;
        input.parse::<Token![::]>()?;
        let command = input.parse()?;
        input.parse::<Token![:]>()?;
        let content;
        let brackets = bracketed!(content in input);
        // Which window may call what is build.rs's to use (the capabilities); here it only
        // has to be there.
        let windows = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
        if windows.is_empty() {
            return Err(Error::new(
                brackets.span.join(),
                "name the windows that may call this command",
            ));
        }
        Ok(Entry { module, command })
    }
}

/// The command table (`src-tauri/src/command_table.rs`): `handler()`, the invoke handler of
/// every command in it, and, in test builds, `signatures()`, their TypeScript signatures in
/// the table's order.
#[proc_macro]
pub fn app_commands(input: TokenStream) -> TokenStream {
    let table = parse_macro_input!(input with Punctuated::<Entry, Token![,]>::parse_terminated);
    let commands = table
        .iter()
        .map(|Entry { module, command }| quote!(crate::#module::#command));
    let signatures = table.iter().map(|Entry { module, command }| {
        let signature_fn = signature_fn(command);
        quote!(crate::#module::#signature_fn(cfg))
    });
    quote! {
        /// Every command of both windows, for the invoke handler; each window's capability
        /// says which it may call.
        pub fn handler<R: ::tauri::Runtime>(
        ) -> impl Fn(::tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            ::tauri::generate_handler![#(#commands),*]
        }

        /// Every command's TypeScript signature, in the table's order.
        #[cfg(test)]
        pub(crate) fn signatures(cfg: &::ts_rs::Config) -> ::std::vec::Vec<crate::bindings::Signature> {
            ::std::vec![#(#signatures),*]
        }
    }
    .into()
}
