"""Per-source matching profiles: which comparisons apply and how partial or missing values are treated."""

from __future__ import annotations

from dataclasses import dataclass

NAME_AND_SSN = ("ssn", "first_name", "middle_name", "last_name", "suffix")
ALL_COMPARISONS = (*NAME_AND_SSN, "dob", "address", "sex")


@dataclass(frozen=True)
class Profile:
    """How one source's records are compared.

    `comparisons`: the comparisons that apply (the others are scored as `null`, weight 0).
    `min_prefix`: a record surname this long or longer that is a prefix of the registry surname is a
    truncation (`prefix` level), not a disagreement; wage files truncate hard, so they allow 1.
    `ssn_last4`: the source may carry only the last four SSN digits (`ssn_last4` column).
    `split_full_name`: the name is free form `LAST FIRST MIDDLE` in `last_name` when `first_name` is blank.
    `hint_column`: an echoed id that may find a candidate but is never evidence (FIDM pass-back).
    """

    name: str
    comparisons: tuple[str, ...] = ALL_COMPARISONS
    min_prefix: int = 4
    ssn_last4: bool = False
    split_full_name: bool = False
    hint_column: str | None = None


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("new_hire"),
        Profile("ui_claim"),
        # Employer-reported wages: no employee address, DOB or sex; names often an initial or truncated.
        Profile("quarterly_wage", comparisons=NAME_AND_SSN, min_prefix=1),
        Profile("dmv", ssn_last4=True),
        # Owner name as on the account, DOB often blank, the institution matched on SSN.
        Profile("fidm", comparisons=(*NAME_AND_SSN, "dob", "address"), split_full_name=True,
                hint_column="pass_back_id"),
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
