//! How the normalized document becomes the typed model: compose-go's
//! decode hooks (`DecodeMapstructure` methods and its `cast` hook), one
//! function per shape. A value of the wrong type is an error that says what
//! was expected; the caller adds where it was.

use std::collections::BTreeMap;

use serde::de::{Deserialize, Deserializer, Error};
use serde_yaml::Value;

use super::gofmt;
use super::model::*;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn expected<E: Error>(what: &str, got: &Value) -> E {
    E::custom(format!("must be {what}, not {}", kind(got)))
}

fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Value::deserialize(d)
}

/// Strings; `null` is empty (an unset optional).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match value(d)? {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s),
        other => Err(expected("a string", &other)),
    }
}

/// Where the schema allows a number for a string field (`published`).
pub fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match value(d)? {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s),
        Value::Number(n) if !n.is_f64() => Ok(n.to_string()),
        other => Err(expected("a string or a whole number", &other)),
    }
}

pub fn to_int<E: Error>(v: &Value) -> Result<i64, E> {
    match v {
        Value::Null => Ok(0),
        Value::Number(n) => n.as_i64().ok_or_else(|| expected("a whole number", v)),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| E::custom(format!("must be a whole number, not {s:?}"))),
        other => Err(expected("a whole number", other)),
    }
}

pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    to_int(&value(d)?)
}

pub fn int_u16<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let n = int(d)?;
    u16::try_from(n).map_err(|_| D::Error::custom(format!("{n} is out of range (0-65535)")))
}

pub fn int_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = int(d)?;
    u32::try_from(n).map_err(|_| D::Error::custom(format!("{n} is out of range")))
}

pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match value(d)? {
        Value::Null => Ok(None),
        v => to_int(&v).map(Some),
    }
}

/// compose-go's `toBoolean`: YAML 1.1 words are still read.
pub fn to_boolean<E: Error>(v: &Value) -> Result<bool, E> {
    match v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "y" | "yes" | "on" => Ok(true),
            "false" | "n" | "no" | "off" => Ok(false),
            _ => Err(E::custom(format!("invalid boolean: {s}"))),
        },
        other => Err(expected("true or false", other)),
    }
}

pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    to_boolean(&value(d)?)
}

pub fn opt_boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match value(d)? {
        Value::Null => Ok(None),
        v => to_boolean(&v).map(Some),
    }
}

pub fn float32<'de, D: Deserializer<'de>>(d: D) -> Result<F32, D::Error> {
    match value(d)? {
        Value::Null => Ok(F32(0.0)),
        Value::Number(n) => Ok(F32(n.as_f64().unwrap_or(0.0) as f32)),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(|f| F32(f as f32))
            .map_err(|_| D::Error::custom(format!("must be a number, not {s:?}"))),
        other => Err(expected("a number", &other)),
    }
}

pub fn unit_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<UnitBytes, D::Error> {
    match value(d)? {
        Value::Null => Ok(UnitBytes(0)),
        Value::Number(n) if !n.is_f64() => Ok(UnitBytes(n.as_i64().unwrap_or(0))),
        Value::String(s) => gofmt::ram_in_bytes(&s)
            .map(UnitBytes)
            .map_err(D::Error::custom),
        other => Err(expected("a size (e.g. 512m, 1g)", &other)),
    }
}

fn to_duration<E: Error>(v: &Value) -> Result<Duration, E> {
    gofmt::parse_duration(&gofmt::sprint(v))
        .map(Duration)
        .map_err(E::custom)
}

pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    match value(d)? {
        Value::Null => Ok(Duration(0)),
        v => to_duration(&v),
    }
}

pub fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    match value(d)? {
        Value::Null => Ok(None),
        v => to_duration(&v).map(Some),
    }
}

pub fn opt_file_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<FileMode>, D::Error> {
    match value(d)? {
        Value::Null => Ok(None),
        Value::Number(n) if !n.is_f64() => Ok(Some(FileMode(n.as_i64().unwrap_or(0)))),
        Value::String(s) => i64::from_str_radix(&s, 8)
            .map(|m| Some(FileMode(m)))
            .map_err(|_| D::Error::custom(format!("mode {s:?} is not an octal number"))),
        other => Err(expected("a file mode", &other)),
    }
}

/// `null` is the default (mapstructure leaves the zero value).
pub fn or_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub fn ignored<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    value(d).map(|_| ())
}

/// A list; `null` is empty. Deserialized in place, so an error inside
/// still says where it is.
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A mapping whose `null` values are the type's default.
pub fn map_or_nulls<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<BTreeMap<String, T>, D::Error> {
    Ok(map_of_options::<D, T>(d)?
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

/// A mapping whose `null` values stay `null` (service networks, models).
pub fn map_of_options<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<BTreeMap<String, Option<T>>, D::Error> {
    Ok(Option::<BTreeMap<String, Option<T>>>::deserialize(d)?.unwrap_or_default())
}

fn key_string<E: Error>(k: &Value) -> Result<String, E> {
    match k {
        Value::String(s) => Ok(s.clone()),
        other => Err(E::custom(format!(
            "a key must be a string, not {}",
            kind(other)
        ))),
    }
}

pub fn services<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Service>, D::Error> {
    let mut services: BTreeMap<String, Service> = map_or_nulls::<D, Service>(d)?;
    for (name, s) in services.iter_mut() {
        s.name = name.clone();
    }
    Ok(services)
}

/// Plain lists of strings (`cap_add`, `dns_opt`...).
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match value(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                Value::Number(n) if !n.is_f64() => Ok(n.to_string()),
                other => Err(expected("a list of strings", &other)),
            })
            .collect(),
        other => Err(expected("a list of strings", &other)),
    }
}

/// A string or a list of strings (`dns`, `tmpfs`, `cache_from`...).
pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match value(d)? {
        Value::String(s) => Ok(vec![s]),
        v => strings(v).map_err(D::Error::custom),
    }
}

/// `expose`: strings or numbers, as text.
pub fn string_or_number_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match value(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s]),
        Value::Sequence(items) => Ok(items.iter().map(gofmt::sprint).collect()),
        other => Err(expected("a list", &other)),
    }
}

/// `command`, `entrypoint`: a string is split like a shell would.
pub fn shell_command<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    match value(d)? {
        Value::Null => Ok(None),
        Value::String(s) => shell_words::split(&s)
            .map(Some)
            .map_err(|e| D::Error::custom(format!("cannot split {s:?} into words: {e}"))),
        Value::Sequence(items) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                other => Err(expected("a list of strings", &other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(expected("a string or a list", &other)),
    }
}

pub fn healthcheck_test<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match value(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec!["CMD-SHELL".into(), s]),
        v => strings(v).map_err(D::Error::custom),
    }
}

/// `environment`, `build.args`: a value may be absent (`null`).
pub fn mapping_with_equals<'de, D: Deserializer<'de>>(d: D) -> Result<MappingWithEquals, D::Error> {
    match value(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Null => None,
                    other => Some(gofmt::sprint(&other)),
                };
                Ok((key_string(&k)?, v))
            })
            .collect(),
        Value::Sequence(items) => {
            let mut out = BTreeMap::new();
            for item in &items {
                let s = gofmt::sprint(item);
                let (k, v) = match s.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (s.clone(), None),
                };
                if k.ends_with(char::is_whitespace) {
                    return Err(D::Error::custom(format!(
                        "environment variable {k} is declared with a trailing space"
                    )));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
        other => Err(expected("a mapping or a list of KEY=VALUE", &other)),
    }
}

/// `sysctls`, `annotations`, `additional_contexts`: missing values are empty.
pub fn mapping<'de, D: Deserializer<'de>>(d: D) -> Result<Mapping, D::Error> {
    match value(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Null => String::new(),
                    other => gofmt::sprint(&other),
                };
                Ok((key_string(&k)?, v))
            })
            .collect(),
        Value::Sequence(items) => Ok(items
            .iter()
            .map(|i| {
                let s = gofmt::sprint(i);
                match s.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (s, String::new()),
                }
            })
            .collect()),
        other => Err(expected("a mapping or a list of KEY=VALUE", &other)),
    }
}

pub fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<Mapping, D::Error> {
    mapping(d)
}

/// `driver_opts`, `logging.options`: a mapping of scalars.
pub fn options<'de, D: Deserializer<'de>>(d: D) -> Result<Mapping, D::Error> {
    match value(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Null => String::new(),
                    other => gofmt::sprint(&other),
                };
                Ok((key_string(&k)?, v))
            })
            .collect(),
        other => Err(expected("a mapping", &other)),
    }
}

pub fn multi_options<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    match value(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                let vals = match v {
                    Value::Sequence(items) => items.iter().map(gofmt::sprint).collect(),
                    other => vec![gofmt::sprint(&other)],
                };
                Ok((key_string(&k)?, vals))
            })
            .collect(),
        other => Err(expected("a mapping", &other)),
    }
}

pub fn hosts_list<'de, D: Deserializer<'de>>(d: D) -> Result<HostsList, D::Error> {
    let mut list: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match value(d)? {
        Value::Null => {}
        Value::Mapping(m) => {
            for (k, v) in m {
                let ips = match v {
                    Value::Null => vec![String::new()],
                    Value::String(s) => vec![s],
                    Value::Sequence(items) => items.iter().map(gofmt::sprint).collect(),
                    other => return Err(expected("an address or a list of them", &other)),
                };
                list.insert(key_string(&k)?, ips);
            }
        }
        Value::Sequence(items) => {
            for item in &items {
                let s = gofmt::sprint(item);
                let Some((host, ip)) = s.split_once('=').or_else(|| s.split_once(':')) else {
                    return Err(D::Error::custom(format!(
                        "invalid additional host, missing IP: {s}"
                    )));
                };
                list.entry(host.to_string())
                    .or_default()
                    .extend(ip.split(',').map(String::from));
            }
        }
        other => return Err(expected("a mapping or a list of host=ip", &other)),
    }
    for (host, ips) in list.iter_mut() {
        if host.is_empty() || host.contains([':', '=']) {
            return Err(D::Error::custom(format!("bad host name '{host}'")));
        }
        for ip in ips.iter_mut() {
            if ip.len() > 2 && ip.starts_with('[') && ip.ends_with(']') {
                *ip = ip[1..ip.len() - 1].to_string();
            }
        }
    }
    Ok(HostsList(list))
}

pub fn ulimits<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Ulimit>, D::Error> {
    match value(d)? {
        Value::Null => Ok(BTreeMap::new()),
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                let key = key_string(&k)?;
                let limit = match &v {
                    Value::Mapping(l) => Ulimit {
                        single: 0,
                        soft: l.get("soft").map(to_int).transpose()?.unwrap_or(0),
                        hard: l.get("hard").map(to_int).transpose()?.unwrap_or(0),
                    },
                    other => Ulimit {
                        single: to_int(other)?,
                        ..Ulimit::default()
                    },
                };
                Ok((key, limit))
            })
            .collect(),
        other => Err(expected("a mapping", &other)),
    }
}

pub fn ssh<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SshKey>, D::Error> {
    match value(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                Ok(SshKey {
                    id: key_string(&k)?,
                    path: match v {
                        Value::Null => String::new(),
                        other => gofmt::sprint(&other),
                    },
                })
            })
            .collect(),
        other => Err(expected("a mapping", &other)),
    }
}

pub fn device_count<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match value(d)? {
        Value::String(s) if s.eq_ignore_ascii_case("all") => Ok(-1),
        Value::String(s) => s.parse().map_err(|_| {
            D::Error::custom(format!(
                "invalid value {s:?}, the only value allowed is 'all' or a number"
            ))
        }),
        v => to_int(&v),
    }
}
