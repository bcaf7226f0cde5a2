//! The exemptions of GDPR Art. 34(3) (and the same article of the UK GDPR): the grounds
//! on which telling the people affected is not required, each as the waiver records it.

/// The grounds of GDPR Art. 34(3) on which telling the people is not required.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Art34Ground {
    /// (a) the data is unintelligible to anyone not authorised to access it (encrypted)
    Unintelligible,
    /// (b) later measures ensure the high risk is no longer likely to materialise
    NoLongerLikely,
    /// (c) it would involve disproportionate effort; a public communication informs the
    /// people as effectively instead
    Disproportionate,
}

impl Art34Ground {
    /// The ground as the waiver records it.
    pub fn describe(self) -> &'static str {
        match self {
            Art34Ground::Unintelligible => {
                "exempt under GDPR Art. 34(3)(a): the data is unintelligible to any person not authorised to access it"
            }
            Art34Ground::NoLongerLikely => {
                "exempt under GDPR Art. 34(3)(b): subsequent measures ensure the high risk is no longer likely to materialise"
            }
            Art34Ground::Disproportionate => {
                "exempt under GDPR Art. 34(3)(c): it would involve disproportionate effort, and a public communication or similar measure informs the people as effectively instead"
            }
        }
    }
}
