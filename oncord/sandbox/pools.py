"""Word pools the seeded sandbox data is drawn from: names, Australian places, clinic vocabulary."""

from __future__ import annotations

import unicodedata

# (first name, sex) pairs; non-ASCII spellings are here on purpose so every consumer meets them.
FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("Olivia", "Female"), ("Charlotte", "Female"), ("Amelia", "Female"), ("Isla", "Female"),
    ("Mia", "Female"), ("Ava", "Female"), ("Grace", "Female"), ("Chloé", "Female"),
    ("Zoë", "Female"), ("Ella", "Female"), ("Sophie", "Female"), ("Matilda", "Female"),
    ("Harper", "Female"), ("Ruby", "Female"), ("Evie", "Female"), ("Siobhán", "Female"),
    ("Aoife", "Female"), ("Niamh", "Female"), ("Renée", "Female"), ("Mei", "Female"),
    ("Priya", "Female"), ("Aisha", "Female"), ("Fatima", "Female"), ("María", "Female"),
    ("Léa", "Female"), ("Ingrid", "Female"), ("Hannah", "Female"), ("Emily", "Female"),
    ("Jessica", "Female"), ("Sarah", "Female"), ("Emma", "Female"), ("Lucy", "Female"),
    ("Aroha", "Female"), ("Thi Hoa", "Female"), ("Anh", "Female"), ("Yuki", "Female"),
    ("Rebecca", "Female"), ("Kate", "Female"), ("Margaret", "Female"), ("Elizabeth", "Female"),
    ("Jack", "Male"), ("Oliver", "Male"), ("Noah", "Male"), ("William", "Male"),
    ("Leo", "Male"), ("Henry", "Male"), ("Thomas", "Male"), ("Charlie", "Male"),
    ("Lucas", "Male"), ("James", "Male"), ("José", "Male"), ("Mateo", "Male"),
    ("Seán", "Male"), ("Liam", "Male"), ("Oisín", "Male"), ("Ethan", "Male"),
    ("Mohammed", "Male"), ("Ahmed", "Male"), ("Arjun", "Male"), ("Raj", "Male"),
    ("Wei", "Male"), ("Minh", "Male"), ("Đức", "Male"), ("Hiroshi", "Male"),
    ("Björn", "Male"), ("Søren", "Male"), ("Jürgen", "Male"), ("François", "Male"),
    ("André", "Male"), ("Luca", "Male"), ("Nikolai", "Male"), ("Kwame", "Male"),
    ("Tane", "Male"), ("Daniel", "Male"), ("Michael", "Male"), ("David", "Male"),
    ("Andrew", "Male"), ("Matthew", "Male"), ("Joshua", "Male"), ("Samuel", "Male"),
    ("Benjamin", "Male"), ("Nathan", "Male"), ("Peter", "Male"), ("Robert", "Male"),
    ("Alex", "Unknown"), ("Sam", "Unknown"), ("Jordan", "Unknown"), ("Riley", "Unknown"),
)

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White",
    "Martin", "Anderson", "Thompson", "Nguyen", "Nguyễn", "Trần", "Le", "Pham",
    "Thomas", "Walker", "Harris", "Lee", "Ryan", "Robinson", "Kelly", "King",
    "O'Brien", "O'Connor", "D'Angelo", "MacDonald", "McKenzie", "Murphy", "Campbell",
    "Chen", "Wang", "Zhang", "Liu", "Li", "Singh", "Kaur", "Patel", "Sharma",
    "Khan", "Ahmed", "Ali", "Haddad", "Papadopoulos", "Nikolaidis", "Rossi", "Russo",
    "Bianchi", "García", "López", "Fernández", "Hernández", "Müller", "Schäfer",
    "Kowalski", "Nowak", "Jovanović", "Popescu", "Ivanova", "Dubois", "Lefèvre",
    "Jensen", "Hansen", "Ødegaard", "Åberg", "Kim", "Park", "Yamamoto", "Satō",
    "Okafor", "Mensah", "Ó Súilleabháin", "Ní Bhriain", "van der Berg", "de Souza",
    "Clarke", "Wright", "Mitchell", "Young", "Hall", "Allen", "Scott", "Green",
    "Baker", "Adams", "Hill", "Carter", "Evans", "Turner", "Parker", "Collins",
    "Edwards", "Morris", "Murray", "Cook", "Cooper", "Bailey", "Reed", "Stewart",
    "Fitzgerald-Jones", "Tuilagi", "Ngata", "Te Whare", "Wiradjuri-Smith",
)

# Shown early in every sandbox, whatever its size, so small test sandboxes contain them too.
FEATURED_NAMES: tuple[tuple[str, str], ...] = (
    ("Zoë", "Nguyễn"), ("José", "García"), ("Siobhán", "O'Brien"),
    ("Seán", "Ó Súilleabháin"), ("Chloé", "Lefèvre"), ("Björn", "Åberg"),
)

NICKNAMES: tuple[str, ...] = ("Jess", "Bec", "Tom", "Mick", "Liz", "Sam", "Kate", "Bill", "Matt")

# (suburb, state, state abbreviation, postcode, IANA time zone); NT postcodes keep their leading 0.
SUBURBS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Fitzroy", "Victoria", "VIC", "3065", "Australia/Melbourne"),
    ("Brunswick", "Victoria", "VIC", "3056", "Australia/Melbourne"),
    ("Carlton", "Victoria", "VIC", "3053", "Australia/Melbourne"),
    ("Richmond", "Victoria", "VIC", "3121", "Australia/Melbourne"),
    ("St Kilda", "Victoria", "VIC", "3182", "Australia/Melbourne"),
    ("Hawthorn", "Victoria", "VIC", "3122", "Australia/Melbourne"),
    ("Footscray", "Victoria", "VIC", "3011", "Australia/Melbourne"),
    ("Coburg", "Victoria", "VIC", "3058", "Australia/Melbourne"),
    ("Northcote", "Victoria", "VIC", "3070", "Australia/Melbourne"),
    ("Box Hill", "Victoria", "VIC", "3128", "Australia/Melbourne"),
    ("Geelong", "Victoria", "VIC", "3220", "Australia/Melbourne"),
    ("Ballarat Central", "Victoria", "VIC", "3350", "Australia/Melbourne"),
    ("Williamstown", "Victoria", "VIC", "3016", "Australia/Melbourne"),
    ("Newtown", "New South Wales", "NSW", "2042", "Australia/Sydney"),
    ("Surry Hills", "New South Wales", "NSW", "2010", "Australia/Sydney"),
    ("Bondi", "New South Wales", "NSW", "2026", "Australia/Sydney"),
    ("Manly", "New South Wales", "NSW", "2095", "Australia/Sydney"),
    ("Parramatta", "New South Wales", "NSW", "2150", "Australia/Sydney"),
    ("Marrickville", "New South Wales", "NSW", "2204", "Australia/Sydney"),
    ("Wollongong", "New South Wales", "NSW", "2500", "Australia/Sydney"),
    ("Fortitude Valley", "Queensland", "QLD", "4006", "Australia/Brisbane"),
    ("West End", "Queensland", "QLD", "4101", "Australia/Brisbane"),
    ("Paddington", "Queensland", "QLD", "4064", "Australia/Brisbane"),
    ("Toowong", "Queensland", "QLD", "4066", "Australia/Brisbane"),
    ("Bulimba", "Queensland", "QLD", "4171", "Australia/Brisbane"),
    ("Southport", "Queensland", "QLD", "4215", "Australia/Brisbane"),
    ("Cairns City", "Queensland", "QLD", "4870", "Australia/Brisbane"),
    ("Fremantle", "Western Australia", "WA", "6160", "Australia/Perth"),
    ("Subiaco", "Western Australia", "WA", "6008", "Australia/Perth"),
    ("Scarborough", "Western Australia", "WA", "6019", "Australia/Perth"),
    ("Glenelg", "South Australia", "SA", "5045", "Australia/Adelaide"),
    ("Norwood", "South Australia", "SA", "5067", "Australia/Adelaide"),
    ("Sandy Bay", "Tasmania", "TAS", "7005", "Australia/Hobart"),
    ("Braddon", "Australian Capital Territory", "ACT", "2612", "Australia/Sydney"),
    ("Darwin City", "Northern Territory", "NT", "0800", "Australia/Darwin"),
    ("Nightcliff", "Northern Territory", "NT", "0810", "Australia/Darwin"),
)

STREETS: tuple[str, ...] = (
    "Smith Street", "Chapel Street", "Sydney Road", "Brunswick Street", "High Street",
    "Church Street", "Station Street", "Victoria Parade", "King Street", "George Street",
    "Queen Street", "Oxford Street", "Glenferrie Road", "Anzac Parade", "Beach Road",
    "Bridge Road", "Swan Street", "Lygon Street", "Boundary Street", "Musgrave Road",
    "Stanley Street", "Waverley Road", "Pacific Highway", "Parramatta Road", "Bay Street",
    "Marine Parade", "The Esplanade", "Wattle Grove", "Banksia Crescent", "Jacaranda Avenue",
    "Kookaburra Court", "Wombat Way", "Acacia Close", "Bottlebrush Lane", "Currawong Drive",
)

# Fictional ranges (ACMA: 0491 57x xxx mobiles, 5550 xxxx landlines) so a demo never texts a person.
STATE_AREA_CODES: dict[str, str] = {
    "VIC": "3", "TAS": "3", "NSW": "2", "ACT": "2", "QLD": "7", "WA": "8", "SA": "8", "NT": "8",
}

EMAIL_DOMAINS: tuple[str, ...] = (
    "example.com", "example.net", "example.org", "mail.example.com", "clinic-patient.example",
)

OCCUPATIONS: tuple[str, ...] = (
    "Teacher", "Nurse", "Electrician", "Software developer", "Retired", "Student",
    "Barista", "Accountant", "Carpenter", "Chef", "Office manager", "Paramedic",
    "Physiotherapy student", "Plumber", "Graphic designer", "Lawyer", "Farmer", "Musician",
)

REFERRAL_SOURCES: tuple[str, ...] = (
    "Google search", "Friend or family", "GP referral", "Instagram", "Walk-in",
    "Local newspaper", "Previous patient", "Workplace", "Facebook",
)

PATIENT_NOTES: tuple[str, ...] = (
    "Prefers early morning appointments.",
    "Has a dog, may bring her along — check first.",
    "Pays by EFTPOS only.",
    "Referred after knee reconstruction (ACL), March.",
)

APPOINTMENT_NOTES: tuple[str, ...] = (
    "Hard of hearing — please speak clearly.",
    "Needs ground-floor room.",
    "Interpreter required (Vietnamese).",
)

APPOINTMENT_BOOKING_NOTES: tuple[str, ...] = (
    "Running 10 min late.",
    "Bring previous scans.",
    "First visit after surgery.",
    "Wants to discuss home exercise program.",
)

CANCELLATION_NOTES: tuple[str, ...] = (
    "Called the morning of — unwell.",
    "Car broke down.",
    "Rescheduling after holidays.",
    "Booked in error.",
    "Work clash, will call back.",
)

PRONOUNS: tuple[dict[str, str], ...] = (
    {"nominative": "she", "accusative": "her", "pronominal_possessive": "her",
     "predicative_possessive": "hers", "reflexive": "herself"},
    {"nominative": "he", "accusative": "him", "pronominal_possessive": "his",
     "predicative_possessive": "his", "reflexive": "himself"},
    {"nominative": "they", "accusative": "them", "pronominal_possessive": "their",
     "predicative_possessive": "theirs", "reflexive": "themselves"},
)

# (business name, address_1, suburb, state, postcode, IANA zone, Cliniko zone label)
BUSINESSES: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("Northside Physio & Pilates", "212 Brunswick Street", "Fitzroy", "Victoria", "3065",
     "Australia/Melbourne", "Melbourne"),
    ("River City Allied Health", "88 Boundary Street", "West End", "Queensland", "4101",
     "Australia/Brisbane", "Brisbane"),
    ("Harbour Osteopathy Newtown", "301 King Street", "Newtown", "New South Wales", "2042",
     "Australia/Sydney", "Sydney"),
    ("Swan River Podiatry", "14 Market Street", "Fremantle", "Western Australia", "6160",
     "Australia/Perth", "Perth"),
)

# (title, first, last, designation, category)
PRACTITIONERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Dr", "Aoife", "Brennan", "Physiotherapist", "Physiotherapy"),
    ("", "Tom", "Nguyen", "Osteopath", "Osteopathy"),
    ("", "Hannah", "Schäfer", "Exercise Physiologist", "Exercise Physiology"),
    ("Dr", "Rahul", "Mehta", "Podiatrist", "Podiatry"),
    ("", "Grace", "Okafor", "Myotherapist", "Myotherapy"),
    ("", "Lachlan", "O'Neill", "Physiotherapist", "Physiotherapy"),
    ("Dr", "Mei", "Tanaka", "Chiropractor", "Chiropractic"),
    ("", "Sofía", "Ramírez", "Dietitian", "Dietetics"),
)

# (name, category, duration minutes, colour, telehealth)
APPOINTMENT_TYPES: tuple[tuple[str, str, int, str, bool], ...] = (
    ("Initial Consultation", "Consultation", 60, "#2E86AB", False),
    ("Standard Consultation", "Consultation", 30, "#3BB273", False),
    ("Extended Consultation", "Consultation", 45, "#E1BC29", False),
    ("Telehealth Review", "Telehealth", 30, "#7768AE", True),
    ("Hydrotherapy Session", "Rehabilitation", 45, "#4D9DE0", False),
    ("Clinical Pilates", "Rehabilitation", 55, "#E15554", False),
    ("Dry Needling", "Treatment", 30, "#F08A4B", False),
    ("Remedial Massage", "Treatment", 60, "#8AC926", False),
    ("Running Assessment", "Assessment", 60, "#1982C4", False),
)
ARCHIVED_APPOINTMENT_TYPE: tuple[str, str, int, str, bool] = (
    "Shockwave Therapy", "Treatment", 20, "#999999", False,
)


def ascii_slug(text: str) -> str:
    """Fold a name to lower-case ASCII letters for building e-mail addresses."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    # ø/å have no decomposition to a base letter, so map them by hand.
    folded = decomposed.replace("ø", "o").replace("Ø", "O").replace("æ", "ae")
    return "".join(ch for ch in folded.lower() if "a" <= ch <= "z")
