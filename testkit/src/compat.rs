//! Structural comparison of WIT types across two [`Resolve`]s: the WIT a
//! component was built against and the Golem 1.5 WIT Reprise provides.
//!
//! Two functions are compatible when their parameter names and types and their
//! result types have the same shape: same record fields in the same order,
//! same variant and enum cases, same resources (by interface and name), with
//! aliases looked through. Names of types themselves do not matter, exactly as
//! in the component model's own type checking.

use wit_parser::{Function, Handle, Resolve, Type, TypeDefKind, TypeOwner};

/// Compare a function of `found` against the function of `expected` with the
/// same name. Returns a description of the first difference.
pub(crate) fn function_mismatch(expected: (&Resolve, &Function), found: (&Resolve, &Function)) -> Option<String> {
    let ((er, ef), (fr, ff)) = (expected, found);
    if ef.params.len() != ff.params.len() {
        return Some(format!(
            "expected {} parameter(s) ({}), found {} ({})",
            ef.params.len(),
            render_params(er, ef),
            ff.params.len(),
            render_params(fr, ff)
        ));
    }
    for (ep, fp) in ef.params.iter().zip(&ff.params) {
        if ep.name != fp.name {
            return Some(format!("expected parameter `{}`, found `{}`", ep.name, fp.name));
        }
        if let Some(why) = type_mismatch(er, &ep.ty, fr, &fp.ty) {
            return Some(format!("parameter `{}`: {why}", ep.name));
        }
    }
    match (&ef.result, &ff.result) {
        (None, None) => None,
        (Some(e), Some(f)) => type_mismatch(er, e, fr, f).map(|why| format!("result: {why}")),
        (e, f) => Some(format!(
            "expected result {}, found {}",
            e.map_or("none".into(), |t| render(er, &t)),
            f.map_or("none".into(), |t| render(fr, &t))
        )),
    }
}

/// Compare two types structurally; `None` when they match.
pub(crate) fn type_mismatch(er: &Resolve, e: &Type, fr: &Resolve, f: &Type) -> Option<String> {
    let (e, f) = (unalias(er, *e), unalias(fr, *f));
    let differ = || Some(format!("expected {}, found {}", render(er, &e), render(fr, &f)));
    let (eid, fid) = match (e, f) {
        (Type::Id(eid), Type::Id(fid)) => (eid, fid),
        (Type::Id(_), _) | (_, Type::Id(_)) => return differ(),
        (e, f) if e == f => return None,
        _ => return differ(),
    };
    let (ek, fk) = (&er.types[eid].kind, &fr.types[fid].kind);
    let nested = |what: String, why: Option<String>| why.map(|why| format!("{what}: {why}"));
    match (ek, fk) {
        (TypeDefKind::Record(a), TypeDefKind::Record(b)) => {
            if a.fields.len() != b.fields.len() {
                return differ();
            }
            a.fields.iter().zip(&b.fields).find_map(|(x, y)| {
                if x.name != y.name {
                    return Some(format!("expected field `{}`, found `{}` in {}", x.name, y.name, render(er, &e)));
                }
                nested(format!("field `{}` of {}", x.name, render(er, &e)), type_mismatch(er, &x.ty, fr, &y.ty))
            })
        }
        (TypeDefKind::Variant(a), TypeDefKind::Variant(b)) => {
            if a.cases.len() != b.cases.len() {
                return differ();
            }
            a.cases.iter().zip(&b.cases).find_map(|(x, y)| {
                if x.name != y.name {
                    return Some(format!("expected case `{}`, found `{}` in {}", x.name, y.name, render(er, &e)));
                }
                nested(format!("case `{}` of {}", x.name, render(er, &e)), optional_mismatch(er, &x.ty, fr, &y.ty))
            })
        }
        (TypeDefKind::Enum(a), TypeDefKind::Enum(b)) => {
            let names = |cases: &[wit_parser::EnumCase]| cases.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
            (names(&a.cases) != names(&b.cases)).then(|| {
                format!("{}: expected cases {:?}, found {:?}", render(er, &e), names(&a.cases), names(&b.cases))
            })
        }
        (TypeDefKind::Flags(a), TypeDefKind::Flags(b)) => {
            let names = |flags: &[wit_parser::Flag]| flags.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
            (names(&a.flags) != names(&b.flags)).then(|| {
                format!("{}: expected flags {:?}, found {:?}", render(er, &e), names(&a.flags), names(&b.flags))
            })
        }
        (TypeDefKind::Tuple(a), TypeDefKind::Tuple(b)) => {
            if a.types.len() != b.types.len() {
                return differ();
            }
            a.types
                .iter()
                .zip(&b.types)
                .enumerate()
                .find_map(|(i, (x, y))| nested(format!("tuple item {i}"), type_mismatch(er, x, fr, y)))
        }
        (TypeDefKind::List(a), TypeDefKind::List(b)) | (TypeDefKind::Option(a), TypeDefKind::Option(b)) => {
            type_mismatch(er, a, fr, b)
        }
        (TypeDefKind::FixedLengthList(a, n), TypeDefKind::FixedLengthList(b, m)) => {
            if n != m {
                differ()
            } else {
                type_mismatch(er, a, fr, b)
            }
        }
        (TypeDefKind::Map(ak, av), TypeDefKind::Map(bk, bv)) => {
            type_mismatch(er, ak, fr, bk).or_else(|| type_mismatch(er, av, fr, bv))
        }
        (TypeDefKind::Result(a), TypeDefKind::Result(b)) => {
            nested("ok".into(), optional_mismatch(er, &a.ok, fr, &b.ok))
                .or_else(|| nested("err".into(), optional_mismatch(er, &a.err, fr, &b.err)))
        }
        (TypeDefKind::Future(a), TypeDefKind::Future(b)) | (TypeDefKind::Stream(a), TypeDefKind::Stream(b)) => {
            optional_mismatch(er, a, fr, b)
        }
        (TypeDefKind::Handle(a), TypeDefKind::Handle(b)) => match (a, b) {
            (Handle::Own(x), Handle::Own(y)) | (Handle::Borrow(x), Handle::Borrow(y)) => {
                (resource_identity(er, *x) != resource_identity(fr, *y)).then(differ).flatten()
            }
            _ => differ(),
        },
        (TypeDefKind::Resource, TypeDefKind::Resource) => {
            (resource_identity(er, eid) != resource_identity(fr, fid)).then(differ).flatten()
        }
        _ => differ(),
    }
}

fn optional_mismatch(er: &Resolve, e: &Option<Type>, fr: &Resolve, f: &Option<Type>) -> Option<String> {
    match (e, f) {
        (None, None) => None,
        (Some(e), Some(f)) => type_mismatch(er, e, fr, f),
        _ => Some(format!(
            "expected {}, found {}",
            e.map_or("no payload".into(), |t| render(er, &t)),
            f.map_or("no payload".into(), |t| render(fr, &t))
        )),
    }
}

/// Follow `type a = b` aliases (including `use`d types) to the defining type.
fn unalias(resolve: &Resolve, mut ty: Type) -> Type {
    // Alias chains are short and acyclic in a valid Resolve; the bound guards
    // against a malformed one.
    for _ in 0..64 {
        match ty {
            Type::Id(id) => match resolve.types[id].kind {
                TypeDefKind::Type(next) => ty = next,
                _ => return ty,
            },
            _ => return ty,
        }
    }
    ty
}

/// A resource is identified by the interface (package name without version
/// and interface name) that defines it, and its own name.
fn resource_identity(resolve: &Resolve, id: wit_parser::TypeId) -> String {
    let id = match unalias(resolve, Type::Id(id)) {
        Type::Id(id) => id,
        _ => id,
    };
    let def = &resolve.types[id];
    let owner = match def.owner {
        TypeOwner::Interface(i) => {
            let iface = &resolve.interfaces[i];
            let pkg = iface.package.map(|p| {
                let name = &resolve.packages[p].name;
                format!("{}:{}", name.namespace, name.name)
            });
            format!("{}/{}", pkg.unwrap_or_default(), iface.name.as_deref().unwrap_or("<inline>"))
        }
        TypeOwner::World(w) => resolve.worlds[w].name.clone(),
        TypeOwner::None => String::new(),
    };
    format!("{owner}#{}", def.name.as_deref().unwrap_or("<anonymous>"))
}

fn render_params(resolve: &Resolve, f: &Function) -> String {
    f.params.iter().map(|p| format!("{}: {}", p.name, render(resolve, &p.ty))).collect::<Vec<_>>().join(", ")
}

/// A short WIT-like rendering of a type, for error messages.
pub(crate) fn render(resolve: &Resolve, ty: &Type) -> String {
    let id = match ty {
        Type::Bool => return "bool".into(),
        Type::U8 => return "u8".into(),
        Type::U16 => return "u16".into(),
        Type::U32 => return "u32".into(),
        Type::U64 => return "u64".into(),
        Type::S8 => return "s8".into(),
        Type::S16 => return "s16".into(),
        Type::S32 => return "s32".into(),
        Type::S64 => return "s64".into(),
        Type::F32 => return "f32".into(),
        Type::F64 => return "f64".into(),
        Type::Char => return "char".into(),
        Type::String => return "string".into(),
        Type::ErrorContext => return "error-context".into(),
        Type::Id(id) => *id,
    };
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return match def.kind {
            TypeDefKind::Record(_) => format!("record `{name}`"),
            TypeDefKind::Variant(_) => format!("variant `{name}`"),
            TypeDefKind::Enum(_) => format!("enum `{name}`"),
            TypeDefKind::Flags(_) => format!("flags `{name}`"),
            TypeDefKind::Resource => format!("resource `{name}`"),
            _ => format!("`{name}`"),
        };
    }
    let opt = |t: &Option<Type>| t.map_or("_".into(), |t| render(resolve, &t));
    match &def.kind {
        TypeDefKind::List(t) => format!("list<{}>", render(resolve, t)),
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", render(resolve, t)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", render(resolve, k), render(resolve, v)),
        TypeDefKind::Option(t) => format!("option<{}>", render(resolve, t)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", opt(&r.ok), opt(&r.err)),
        TypeDefKind::Tuple(t) => {
            format!("tuple<{}>", t.types.iter().map(|t| render(resolve, t)).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Handle(Handle::Own(r)) => render(resolve, &Type::Id(*r)),
        TypeDefKind::Handle(Handle::Borrow(r)) => format!("borrow<{}>", render(resolve, &Type::Id(*r))),
        TypeDefKind::Future(t) => format!("future<{}>", opt(t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", opt(t)),
        TypeDefKind::Type(t) => render(resolve, t),
        other => other.as_str().to_string(),
    }
}
