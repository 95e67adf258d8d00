"""Per-source matching profiles: which comparisons apply and how partial or missing values are treated."""

from __future__ import annotations

from dataclasses import dataclass

NAME_AND_SSN = ("ssn", "first_name", "middle_name", "last_name", "suffix")
ALL_COMPARISONS = (*NAME_AND_SSN, "dob", "address", "sex", "employer")


@dataclass(frozen=True)
class Profile:
    """How one source's records are compared.

    `comparisons`: the comparisons that apply (the others are scored as `null`, weight 0).
    `min_prefix`: a record surname this long or longer that is a prefix of the registry surname is a
    truncation (`prefix` level), not a disagreement; wage files truncate hard, so they allow 1.
    `ssn_last4`: the source may carry only the last four SSN digits (`ssn_last4` column).
    `full_name_columns`: raw columns holding a whole free-form name (`LAST FIRST MIDDLE` or
    `FIRST MIDDLE LAST`); each is read both ways, as is `last_name` when `first_name` is blank, and
    the reading that agrees best with a candidate speaks for the record.
    `hint_column`: an echoed id that may find a candidate but is never evidence (FIDM pass-back).
    `auto_needs_dob`: the SSN was our own inquiry key, so a same-named father or son using it can only
    be told apart by the birth date: without an agreeing DOB a match goes to review.
    """

    name: str
    comparisons: tuple[str, ...] = ALL_COMPARISONS
    min_prefix: int = 4
    ssn_last4: bool = False
    full_name_columns: tuple[str, ...] = ()
    hint_column: str | None = None
    auto_needs_dob: bool = False


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("new_hire"),
        Profile("ui_claim"),
        # Employer-reported wages: no employee address, DOB or sex; names often an initial or truncated.
        Profile("quarterly_wage", comparisons=(*NAME_AND_SSN, "employer"), min_prefix=1),
        Profile("dmv", comparisons=(*NAME_AND_SSN, "dob", "address", "sex"), ssn_last4=True),
        # Owner names as on the account (first and second owner), DOB often blank, matched on our SSN.
        Profile("fidm", comparisons=(*NAME_AND_SSN, "dob", "address"),
                full_name_columns=("owner_name_raw", "second_owner_name"), hint_column="pass_back_id",
                auto_needs_dob=True),
    )
}  # fmt: skip


def get_profile(profile: str | Profile) -> Profile:
    """A profile by name (`new_hire`, `quarterly_wage`, `dmv`, `fidm`, `ui_claim`; dashes allowed)."""
    if isinstance(profile, Profile):
        return profile
    key = profile.replace("-", "_")
    if key not in PROFILES:
        raise ValueError(f"unknown matching profile {profile!r}; known: {', '.join(PROFILES)}")
    return PROFILES[key]
