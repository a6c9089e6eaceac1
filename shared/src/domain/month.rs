//! A calendar month (`2026-11`), parsed once: what an invoice covers and what usage is
//! summed over.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    /// Always the first day of the month.
    first: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a month like 2026-11")]
pub struct InvalidMonth;

impl Month {
    /// `YYYY-MM`, years 2000 to 9999.
    pub fn parse(raw: &str) -> Result<Month, InvalidMonth> {
        let (y, m) = raw.trim().split_once('-').ok_or(InvalidMonth)?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return Err(InvalidMonth);
        }
        let (y, m) = (
            y.parse::<i32>().map_err(|_| InvalidMonth)?,
            m.parse::<u32>().map_err(|_| InvalidMonth)?,
        );
        if y < 2000 {
            return Err(InvalidMonth);
        }
        NaiveDate::from_ymd_opt(y, m, 1)
            .map(|first| Month { first })
            .ok_or(InvalidMonth)
    }

    /// The month `day` falls in.
    pub fn of(day: NaiveDate) -> Month {
        Month {
            first: day.with_day(1).unwrap_or(day),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first - Duration::days(1)
    }

    /// 28 to 31.
    pub fn days(self) -> i64 {
        (self.next().first - self.first).num_days()
    }

    pub fn next(self) -> Month {
        let (y, m) = (self.first.year(), self.first.month());
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        Month {
            first: NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(self.first),
        }
    }

    pub fn previous(self) -> Month {
        Month::of(self.first - Duration::days(1))
    }

    pub fn year(self) -> i32 {
        self.first.year()
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        Month::of(day) == self
    }

    /// `November 2026`.
    pub fn german(self) -> String {
        const NAMES: [&str; 12] = [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ];
        format!(
            "{} {}",
            NAMES[self.first.month0() as usize],
            self.first.year()
        )
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

impl FromStr for Month {
    type Err = InvalidMonth;
    fn from_str(s: &str) -> Result<Month, InvalidMonth> {
        Month::parse(s)
    }
}

impl TryFrom<String> for Month {
    type Error = InvalidMonth;
    fn try_from(s: String) -> Result<Month, InvalidMonth> {
        Month::parse(&s)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn months_parse_only_in_their_one_form() {
        assert_eq!(
            Month::parse("2026-11").map(|m| m.to_string()),
            Ok("2026-11".into())
        );
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-11",
            "2026/11",
            "2026-11-01",
            "",
            "1999-12",
            "+026-11",
        ] {
            assert_eq!(Month::parse(bad), Err(InvalidMonth), "{bad}");
        }
    }

    #[test]
    fn month_lengths_follow_the_calendar_and_leap_years() {
        let days = |s: &str| Month::parse(s).map(Month::days);
        assert_eq!(days("2026-02"), Ok(28));
        assert_eq!(days("2028-02"), Ok(29));
        assert_eq!(days("2100-02"), Ok(28));
        assert_eq!(days("2000-02"), Ok(29));
        assert_eq!(days("2026-12"), Ok(31));
        assert_eq!(days("2026-11"), Ok(30));
    }

    #[test]
    fn december_is_followed_by_january() {
        let dec = Month::parse("2026-12").expect("month");
        assert_eq!(dec.next().to_string(), "2027-01");
        assert_eq!(dec.next().previous(), dec);
        assert_eq!(dec.last_day(), d(2026, 12, 31));
        assert!(dec.contains(d(2026, 12, 31)) && !dec.contains(d(2027, 1, 1)));
        assert_eq!(Month::of(d(2028, 2, 29)).to_string(), "2028-02");
        assert_eq!(
            Month::parse("2026-03").map(Month::german),
            Ok("März 2026".into())
        );
    }
}
