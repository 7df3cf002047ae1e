//! Money as integer minor units with an ISO 4217 currency: exact sums, never floating-point drift.

/// Largest amount accepted anywhere (10 million in major units of a two-digit currency).
pub const MAX_MINOR: i64 = 1_000_000_000;

/// Checks an ISO 4217 code's shape and upper-cases it.
pub fn check_currency(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be a three-letter currency code such as USD".into())
    }
}

/// Digits after the decimal point in the currency's minor unit.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Minor units as a major-unit number, for clients that want dollars (TO2) or spreadsheets.
pub fn to_major(minor: i64, currency: &str) -> f64 {
    minor as f64 / 10f64.powi(minor_digits(currency) as i32)
}

/// A readable amount: "$8.40", "£1.20", "€3.00", else "12.50 CAD".
pub fn format_money(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency) as usize;
    let divisor = 10i64.pow(digits as u32);
    let (whole, fraction) = (minor / divisor, (minor % divisor).abs());
    let amount = if digits == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{fraction:0digits$}")
    };
    match currency {
        "USD" => format!("${amount}"),
        "GBP" => format!("£{amount}"),
        "EUR" => format!("€{amount}"),
        other => format!("{amount} {other}"),
    }
}

/// Reads an amount as a person writes it ("1.50", "$1.50", "1,50", "2", "0.5") into minor units
/// of `currency`: what web forms take, so no worker has to think in cents.
pub fn parse_money(raw: &str, currency: &str) -> Result<i64, String> {
    let text: String = raw
        .trim()
        .trim_start_matches(['$', '£', '€'])
        .trim_end_matches(currency)
        .trim()
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    let bad = || format!("write an amount such as 1.50 (in {currency})");
    if text.is_empty() {
        return Err(bad());
    }
    let digits = minor_digits(currency) as usize;
    // A comma is a decimal mark ("1,50") unless a dot follows it ("1,000.50").
    let text = if text.contains('.') {
        text.replace(',', "")
    } else {
        text.replace(',', ".")
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    if fraction.len() > digits {
        return Err(if digits == 0 {
            format!("{currency} has no smaller unit: write a whole number")
        } else {
            format!("at most {digits} digits after the decimal point")
        });
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let fraction: i64 = format!("{fraction:0<digits$}").parse().unwrap_or(0);
    whole
        .checked_mul(10i64.pow(digits as u32))
        .and_then(|w| w.checked_add(fraction))
        .filter(|minor| *minor <= MAX_MINOR)
        .ok_or_else(|| "is too large".to_owned())
}

/// Minor units as a person writes them in a form ("1.50", "500"), the inverse of `parse_money`.
pub fn write_money(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency) as usize;
    if digits == 0 {
        return minor.to_string();
    }
    let divisor = 10i64.pow(digits as u32);
    format!("{}.{:0digits$}", minor / divisor, (minor % divisor).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_and_formatting() {
        assert_eq!(check_currency(" usd"), Ok("USD".into()));
        assert!(check_currency("US").is_err());
        assert!(check_currency("U5D").is_err());
        assert_eq!(format_money(840, "USD"), "$8.40");
        assert_eq!(format_money(120, "GBP"), "£1.20");
        assert_eq!(format_money(300, "EUR"), "€3.00");
        assert_eq!(format_money(1250, "CAD"), "12.50 CAD");
        assert_eq!(format_money(500, "JPY"), "500 JPY");
        assert_eq!(format_money(1005, "KWD"), "1.005 KWD");
        assert_eq!(to_major(510, "USD"), 5.1);
    }

    #[test]
    fn amounts_as_people_write_them() {
        assert_eq!(parse_money("1.50", "USD"), Ok(150));
        assert_eq!(parse_money(" $1.5 ", "USD"), Ok(150));
        assert_eq!(parse_money("1,50", "EUR"), Ok(150));
        assert_eq!(parse_money("1,000.25", "USD"), Ok(100_025));
        assert_eq!(parse_money("2", "GBP"), Ok(200));
        assert_eq!(parse_money(".05", "USD"), Ok(5));
        assert_eq!(parse_money("12.50 CAD", "CAD"), Ok(1250));
        assert_eq!(parse_money("500", "JPY"), Ok(500));
        assert!(
            parse_money("5.5", "JPY")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(
            parse_money("1.505", "USD")
                .unwrap_err()
                .contains("2 digits")
        );
        assert!(parse_money("", "USD").is_err());
        assert!(parse_money("-1", "USD").is_err());
        assert!(parse_money("1e3", "USD").is_err());
        assert!(parse_money(".", "USD").is_err());
        assert!(parse_money("99999999999999999999", "USD").is_err());
        assert_eq!(write_money(150, "USD"), "1.50");
        assert_eq!(write_money(5, "USD"), "0.05");
        assert_eq!(write_money(500, "JPY"), "500");
        for minor in [0, 1, 99, 100, 12_345] {
            assert_eq!(parse_money(&write_money(minor, "USD"), "USD"), Ok(minor));
        }
    }
}
