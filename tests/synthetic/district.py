"""A fast, seeded generator of a realistic OneRoster 1.1 CSV district.

Used for the bundled demo district (``demo/oneroster-1.1``), for tests, and by the benchmarks at a
million students (about ten million rows). Everything per student or per enrollment is computed with
numpy array operations and turned into Arrow string arrays without Python loops, then written with
``pyarrow.csv``; only per-school and per-course lookup tables are small Python lists.

What it writes (``oneroster.version`` 1.1, every rostering file ``bulk``; the gradebook files ``absent``, or
``bulk`` with ``gradebook=True``):

- ``orgs``: one district and its schools (about one per 500 students, at least two), elementary
  (KG-05), middle (06-08) and high (09-12); with only two schools, a K-8 and a high school.
- ``academicSessions``: the school year (``schoolYear`` = its ending year) and two semesters.
- ``courses``: eight per school and grade (six core subjects and two electives).
- ``classes``: sections of each course (about 22-28 students), ``scheduled``; elementary homerooms are
  ``homeroom``. Core classes run both terms (``"t1,t2"``), electives one term; one period each.
- ``users``: students, teachers (about one per 20 students), administrators (one per school and three
  at the district), guardians (about one per student; siblings share theirs) linked both ways through
  ``agentSourcedIds``.
- ``enrollments``: about seven per student, plus one primary teacher per class.
- ``demographics``: one per student.
- with ``gradebook=True``: three ``categories`` (homework, quizzes, tests); three ``lineItems`` per class,
  in its (first) term; a ``results`` row per student of the class and line item (most fully graded, a few
  not submitted or late); a ``resources`` e-book per course, given to the course (``courseResources``)
  and its classes (``classResources``). Drawn from their own random stream: the rostering files are the
  same bytes with or without them.

``reference_errors=k`` breaks k cross-file references on purpose (enrollments to a missing user or
class, classes to a missing course) so that validation has something to report.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from passport_pipelines.validation.oneroster.spec import NON_ROSTER_FILES, files_for

__all__ = ["generate_oneroster_district", "generate_oneroster_zip", "BULK_FILES", "ABSENT_FILES", "GRADEBOOK_FILES"]

VERSION = "1.1"
BULK_FILES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
ABSENT_FILES = NON_ROSTER_FILES[:6]  # categories, classResources, courseResources, lineItems, resources, results
GRADEBOOK_FILES = ("categories", "lineItems", "results", "resources", "courseResources", "classResources")
# The line items of every class: (title, category, highest score, days after the term starts, days to do it).
LINE_ITEMS = (("Homework 1", "cat-hw", 10, 14, 4), ("Quiz 1", "cat-quiz", 20, 21, 0),
              ("Unit test 1", "cat-test", 100, 42, 0))
CATEGORIES = (("cat-hw", "Homework"), ("cat-quiz", "Quizzes"), ("cat-test", "Tests"))
SYSTEM_NAME = "Passport Synthetic"

DISTRICT_NAME = "Passport Unified School District"
STAFF_DOMAIN = "passport-usd.org"
STUDENT_DOMAIN = "students.passport-usd.org"
HOME_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")

# --------------------------------------------------------------------------------------------------
# Names (a few hundred, with accents, apostrophes, hyphens and spaces as real rosters have them)
# --------------------------------------------------------------------------------------------------

FEMALE_NAMES = (
    "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Evelyn", "Luna",
    "Harper", "Camila", "Sofía", "Scarlett", "Elizabeth", "Eleanor", "Emily", "Chloe", "Mila", "Violet",
    "Penelope", "Gianna", "Aria", "Abigail", "Ella", "Avery", "Hazel", "Nora", "Layla", "Lily", "Aurora",
    "Nova", "Ellie", "Madison", "Grace", "Isla", "Willow", "Zoe", "Riley", "Stella", "Zoë", "Ximena",
    "Valentina", "Emilia", "Ivy", "Naomi", "Elena", "Maya", "Leah", "Paisley", "Addison", "Natalie",
    "Kinsley", "Delilah", "Hannah", "Aaliyah", "Audrey", "Brooklyn", "Savannah", "Genesis", "Lucía",
    "Renée", "Chloé", "Inés", "Noémie", "Anaïs", "Mariana", "Guadalupe", "Fatima", "Aisha",
    "Amira", "Priya", "Ananya", "Mei", "Yuna", "Hana", "Jiwoo", "Linh", "Thảo", "Ngozi", "Amara",
    "Chiamaka", "Zainab", "Maryam", "Siobhán", "Aoife", "Saoirse", "Ingrid", "Astrid", "Freya", "Björk",
    "Daniela", "Gabriela", "Valeria", "Camille", "Juliette", "Margaux", "Keisha", "Imani", "Jasmine",
    "Destiny", "Tiana", "Kaylee", "Makayla", "Jada", "Alexis", "Brianna", "Nevaeh", "Serenity", "Ruby",
    "Claire", "Lucy", "Anna", "Sarah", "Rachel", "Rebecca", "Katherine", "Margaret", "Julia", "Alice",
    "Josephine", "Adeline", "Cora", "Eliana", "Quinn", "Sadie", "Piper", "Lydia", "Jade", "Mackenzie",
    "Ana", "María", "José-Ann", "Mary-Kate", "Anne-Marie", "D'Asia", "Da'Nyah", "Le'Andra", "Nadia",
    "Yasmin", "Leila", "Esther", "Miriam", "Talia", "Shira", "Kalani", "Leilani", "Malia", "Keala",
)

MALE_NAMES = (
    "Liam", "Noah", "Oliver", "James", "Elijah", "Mateo", "Theodore", "Henry", "Lucas", "William",
    "Benjamin", "Levi", "Sebastian", "Jack", "Ezra", "Michael", "Daniel", "Leo", "Owen", "Samuel",
    "Hudson", "Alexander", "Asher", "Luca", "Ethan", "John", "David", "Jackson", "Joseph", "Mason",
    "Luke", "Matthew", "Julian", "Dylan", "Elias", "Jacob", "Maverick", "Gabriel", "Logan", "Aiden",
    "Thomas", "Isaac", "Miles", "Grayson", "Santiago", "Anthony", "Wyatt", "Carter", "Jayden", "Ezekiel",
    "Caleb", "Cooper", "Josiah", "Charles", "Christopher", "Isaiah", "Nolan", "Cameron", "Nathan",
    "Joshua", "Kai", "Waylon", "Angel", "Lincoln", "Andrew", "Roman", "Adrian", "Aaron", "Wesley",
    "José", "Andrés", "Joaquín", "Matías", "Sebastián", "Julián", "Nicolás", "Martín", "Ramón", "Raúl",
    "André", "François", "Jérôme", "Noël", "Søren", "Björn", "Jürgen", "Zoltán", "Álvaro", "Íñigo",
    "Mohammed", "Omar", "Yusuf", "Ibrahim", "Hamza", "Arjun", "Rohan", "Vihaan", "Aarav", "Wei",
    "Hiroshi", "Haruto", "Minjun", "Seojun", "Duc", "Minh", "Quang", "Chukwuemeka", "Oluwaseun", "Kwame",
    "Kofi", "Tariq", "Malik", "Jamal", "DeShawn", "Darnell", "Tyrone", "Marquis", "Terrell", "Andre",
    "D'Angelo", "Ja'Marr", "De'Aaron", "Le'Veon", "Jean-Luc", "Jean-Pierre", "Seán", "Ciarán",
    "Eoin", "Patrick", "Connor", "Declan", "Finn", "Rory", "Brendan", "Kevin", "Brian", "Steven",
    "Paul", "Mark", "George", "Edward", "Ryan", "Tyler", "Brandon", "Justin", "Austin", "Cody",
    "Diego", "Carlos", "Luis", "Jorge", "Miguel", "Alejandro", "Fernando", "Eduardo", "Ricardo", "Emilio",
    "Keanu", "Makoa", "Kainoa", "Ikaika", "Tevita", "Sione", "Aryan", "Dev", "Ravi", "Sanjay",
)

FAMILY_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
    "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards",
    "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez",
    "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim",
    "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray",
    "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long",
    "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman",
    "Butler", "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan",
    "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West",
    "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens",
    "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods",
    "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman",
    "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw",
    "Snyder", "Mason", "Dixon", "Muñoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black",
    "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice",
    "Schmidt", "García", "Pérez", "Hernández", "Rodríguez", "Martínez", "González", "Gómez", "Díaz",
    "Sánchez", "Ramírez", "Núñez", "Jiménez", "Álvarez", "Gutiérrez", "Peña", "Ibáñez", "Castañeda",
    "O'Brien", "O'Connor", "O'Neill", "O'Sullivan", "D'Angelo", "D'Amico", "DeLuca", "McCarthy",
    "MacDonald", "Van der Berg", "van Dyke", "de la Cruz", "De León", "St. John", "Smith-Jones",
    "Garcia-Lopez", "Nakamura", "Tanaka", "Watanabe", "Yamamoto", "Suzuki", "Park", "Choi", "Jung",
    "Kang", "Cho", "Yoon", "Wang", "Li", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Zhou", "Xu",
    "Phạm", "Lê", "Trần", "Hoàng", "Vũ", "Đặng", "Singh", "Kumar", "Shah", "Gupta", "Sharma", "Reddy",
    "Iyer", "Khan", "Ahmed", "Ali", "Hussain", "Haddad", "Khoury", "Nassar", "Okafor", "Adeyemi",
    "Okonkwo", "Mensah", "Boateng", "Diallo", "Traoré", "Kowalski", "Nowak", "Wiśniewski", "Novák",
    "Müller", "Schäfer", "Jäger", "Björklund", "Lindqvist", "Ødegaard", "Andersson", "Johansson",
    "Dubois", "Lefèvre", "Gagné", "Côté", "Bélanger", "Rossi", "Russo", "Esposito", "Bianchi",
    "Kealoha", "Kahale", "Begay", "Yazzie", "Tsosie", "Benally", "Afolabi", "Ivanov", "Petrov", "Popescu",
)

SCHOOL_STEMS = (
    "Lincoln", "Washington", "Jefferson", "Roosevelt", "Franklin", "Kennedy", "Madison", "Jackson",
    "Adams", "Monroe", "Riverside", "Lakeview", "Hillcrest", "Oak Grove", "Maple Ridge", "Cedar Creek",
    "Willow Park", "Pinecrest", "Sunnyside", "Valley View", "Mountain View", "Eastside", "Westside",
    "Northgate", "Southridge", "Harbor", "Meadowbrook", "Fairview", "Parkside", "Highland",
    "César Chávez", "Rosa Parks", "Sally Ride", "Dolores Huerta", "Harriet Tubman", "Sojourner Truth",
    "Martin Luther King Jr.", "Frederick Douglass", "Amelia Earhart", "Thurgood Marshall", "Ruby Bridges",
    "Mae Jemison", "Sequoyah", "Sacajawea", "John Muir", "Ellen Ochoa", "Grace Hopper", "Katherine Johnson",
    "Booker T. Washington", "George Washington Carver", "Clara Barton", "Susan B. Anthony", "Emerson",
    "Thoreau", "Whitman", "Twain", "Frost", "Longfellow", "Edison", "Goddard", "Armstrong", "Glenn",
    "Bayside", "Canyon", "Desert Vista", "Prairie", "Sierra", "Sequoia", "Redwood", "Aspen", "Birchwood",
    "Cottonwood", "Elmwood", "Greenfield", "Brookside", "Stonebridge", "Foxhollow", "Kingsley", "O'Keeffe",
)

CITIES = ("Los Angeles", "Sacramento", "San José", "Fresno", "Oakland", "San Diego", "Bakersfield",
          "Riverside", "Stockton", "Santa Ana", "Anaheim", "Modesto")
FOREIGN_COUNTRIES = ("MX", "VN", "PH", "CN", "IN", "SV", "GT", "KR", "UA", "AF")

GRADE_CODES = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
SLOTS = 8  # courses per school and grade: slots 0-5 core (every student), 6-7 electives
CLASS_SIZE = np.array([22] * 6 + [26] * 3 + [28] * 4)  # target students per section, by grade

_ORDINAL = ("Kindergarten", "Grade 1", "Grade 2", "Grade 3", "Grade 4", "Grade 5", "Grade 6", "Grade 7",
            "Grade 8", "Grade 9", "Grade 10", "Grade 11", "Grade 12")


def _course_catalog() -> list[list[tuple[str, str, str]]]:
    """(title, courseCode, subject) per grade (0 = KG) and slot."""
    cat: list[list[tuple[str, str, str]]] = []
    for g in range(13):
        gc = GRADE_CODES[g]
        label = _ORDINAL[g]
        if g <= 5:
            row = [(f"{label} Homeroom", f"HR-{gc}", "Homeroom"),
                   (f"{label} Mathematics", f"MATH-{gc}", "Mathematics"),
                   (f"{label} English Language Arts", f"ELA-{gc}", "English Language Arts"),
                   (f"{label} Science", f"SCI-{gc}", "Science"),
                   (f"{label} Social Studies", f"SS-{gc}", "Social Studies"),
                   (f"{label} Physical Education", f"PE-{gc}", "Physical Education"),
                   (f"{label} Art", f"ART-{gc}", "Fine Arts"),
                   (f"{label} Music", f"MUS-{gc}", "Fine Arts")]
        elif g <= 8:
            row = [(f"English {g}", f"ENG-{gc}", "English Language Arts"),
                   (("Math 6", "Math 7", "Pre-Algebra")[g - 6], f"MATH-{gc}", "Mathematics"),
                   (("Earth Science", "Life Science", "Physical Science")[g - 6], f"SCI-{gc}", "Science"),
                   (("Ancient Civilizations", "World History", "U.S. History")[g - 6], f"SS-{gc}",
                    "Social Studies"),
                   (f"Physical Education {g}", f"PE-{gc}", "Physical Education"),
                   (f"Health {g}", f"HLTH-{gc}", "Health"),
                   (f"Spanish (Middle School) {g}", f"SPAN-{gc}", "World Languages"),
                   (f"Band {g}", f"BAND-{gc}", "Fine Arts")]
        else:
            k = g - 9
            row = [(f"English {g}", f"ENG-{gc}", "English Language Arts"),
                   (("Algebra I", "Geometry", "Algebra II", "Pre-Calculus")[k], f"MATH-{gc}", "Mathematics"),
                   (("Biology", "Chemistry", "Physics", "Environmental Science")[k], f"SCI-{gc}", "Science"),
                   (("World History", "U.S. History", "Government & Economics", "Psychology")[k], f"SS-{gc}",
                    "Social Studies"),
                   (("Physical Education", "Health & Wellness", "Physical Education II", "Personal Finance")[k],
                    f"PEH-{gc}", ("Physical Education", "Health", "Physical Education", "Career & Technical")[k]),
                   (("Spanish I", "Spanish II", "Spanish III", "AP Spanish Language")[k], f"SPAN-{gc}",
                    "World Languages"),
                   (("Intro to Art", "Computer Science Principles", "Drama", "AP Computer Science A")[k],
                    f"ELEC1-{gc}", ("Fine Arts", "Computer Science", "Fine Arts", "Computer Science")[k]),
                   (("Concert Choir", "Photography", "Ceramics", "Journalism")[k], f"ELEC2-{gc}",
                    ("Fine Arts", "Fine Arts", "Fine Arts", "English Language Arts")[k])]
        cat.append(row)
    return cat


_NO_DECOMPOSITION = str.maketrans({"Đ": "D", "đ": "d", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "ß": "ss",
                                   "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th"})


def _slug(name: str) -> str:
    """ASCII lowercase letters/digits only: José O'Brien-Núñez -> joseobriennunez."""
    ascii_ = unicodedata.normalize("NFKD", name.translate(_NO_DECOMPOSITION)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_.lower() if ch.isalnum()) or "x"


# --------------------------------------------------------------------------------------------------
# Vectorized string helpers
# --------------------------------------------------------------------------------------------------


def _fixed(prefix: str, nums: np.ndarray, width: int, suffix: str = "") -> pa.Array:
    """Strings ``prefix + zero-padded nums + suffix`` built straight into an Arrow buffer."""
    nums = np.asarray(nums, dtype=np.int64)
    n = len(nums)
    p, s = prefix.encode(), suffix.encode()
    length = len(p) + width + len(s)
    buf = np.empty((n, length), dtype=np.uint8)
    if p:
        buf[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    if s:
        buf[:, len(p) + width:] = np.frombuffer(s, dtype=np.uint8)
    x = nums.copy()
    for k in range(width - 1, -1, -1):
        x, d = np.divmod(x, 10)
        buf[:, len(p) + k] = d + 48
    if n * length < 2**31 - 1:
        offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


def _take(values, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``values[idx]`` as an Arrow string array; null where ``valid`` is False."""
    arr = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    indices = pa.array(np.asarray(idx, dtype=np.int64), mask=None if valid is None else ~valid)
    return arr.take(indices)


def _join(*parts, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep, null_handling="skip")


def _width(max_value: int, minimum: int = 1) -> int:
    return max(minimum, len(str(int(max_value))))


def _nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def _table(name: str, columns: dict[str, pa.Array], n: int) -> pa.Table:
    names = files_for(VERSION)[name].names
    unknown = set(columns) - set(names)
    if unknown:
        raise ValueError(f"{name}: unknown columns {sorted(unknown)}")
    return pa.table({c: columns.get(c, _nulls(n)) for c in names})


def _write(table: pa.Table, path: Path) -> int:
    """Write with an unquoted header line (the body is quoted where pyarrow quotes strings)."""
    header = (",".join(table.column_names) + "\n").encode()
    with pa.OSFile(str(path), "wb") as sink:
        sink.write(header)
        if table.num_rows:
            options = pacsv.WriteOptions(include_header=False, batch_size=1 << 16)
            with pacsv.CSVWriter(sink, table.schema, write_options=options) as writer:
                writer.write_table(table)
    return table.num_rows


# --------------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------------


def _school_year(school_year: str) -> tuple[int, int]:
    try:
        first, second = (int(x) for x in school_year.split("-"))
    except ValueError:
        raise ValueError(f"school_year must look like 2025-2026, got {school_year!r}") from None
    if second != first + 1:
        raise ValueError(f"school_year must span two consecutive years, got {school_year!r}")
    return first, second


def generate_oneroster_district(
    out_dir: Path,
    students: int,
    *,
    seed: int = 7,
    school_year: str = "2025-2026",
    reference_errors: int = 0,
    gradebook: bool = False,
) -> dict[str, int]:
    """Write a OneRoster 1.1 bulk CSV package for a synthetic district into ``out_dir``.

    Returns the number of data rows written per file (``orgs``, ``academicSessions``, ...).
    The same arguments always produce byte-identical files. ``gradebook``: the gradebook and
    resources files too (their rows drawn from a stream of their own).
    """
    if students < 1:
        raise ValueError("students must be at least 1")
    if reference_errors < 0:
        raise ValueError("reference_errors must be >= 0")
    y1, y2 = _school_year(school_year)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_stu = int(students)
    rows: dict[str, int] = {}

    # ---------------------------------------------------------------- schools and orgs
    n_sch = max(2, int(round(n_stu / 500)))
    if n_sch == 2:
        bands = [(0, 8, "School"), (9, 12, "High School")]  # a K-8 and a high school
        sch_band = np.array([0, 1])
    else:
        n_mid = max(1, int(round(n_sch * 3 / 13)))
        n_high = max(1, int(round(n_sch * 4 / 13)))
        n_elem = n_sch - n_mid - n_high
        bands = [(0, 5, "Elementary School"), (6, 8, "Middle School"), (9, 12, "High School")]
        sch_band = np.repeat(np.arange(3), [n_elem, n_mid, n_high])
    sch_lo = np.array([bands[b][0] for b in sch_band])
    sch_hi = np.array([bands[b][1] for b in sch_band])
    stems = rng.permutation(len(SCHOOL_STEMS))
    sch_names = []
    used: set[str] = set()
    for i, b in enumerate(sch_band):
        stem = SCHOOL_STEMS[stems[i % len(stems)]]
        name = f"{stem} {bands[b][2]}"
        if n_sch == 2 and b == 0:
            name = f"{stem} K-8 School"
        k = 2
        base = name
        while name in used:
            name = f"{base} {k}"
            k += 1
        used.add(name)
        sch_names.append(name)
    w_sch = _width(n_sch, 4)
    district_id = "dist-001"
    sch_ids = _fixed("sch-", np.arange(1, n_sch + 1), w_sch)
    org_ids = pa.concat_arrays([pa.array([district_id]), sch_ids])
    orgs = _table("orgs", {
        "sourcedId": org_ids,
        "name": pa.array([DISTRICT_NAME, *sch_names]),
        "type": _take(["district", "school"], np.r_[0, np.ones(n_sch, dtype=np.int64)]),
        "identifier": pa.concat_arrays([pa.array(["0612345"]), _fixed("0612345", np.arange(1, n_sch + 1), 5)]),
        "parentSourcedId": _take([district_id], np.zeros(n_sch + 1, dtype=np.int64),
                                 np.r_[False, np.ones(n_sch, dtype=bool)]),
    }, n_sch + 1)
    rows["orgs"] = _write(orgs, out / "orgs.csv")

    # ---------------------------------------------------------------- academic sessions
    year_id, t1_id, t2_id = f"ay-{y2}", f"term-{y2}-s1", f"term-{y2}-s2"
    sessions = _table("academicSessions", {
        "sourcedId": pa.array([year_id, t1_id, t2_id]),
        "title": pa.array([f"{y1}-{y2}", f"Semester 1 {y1}-{y2}", f"Semester 2 {y1}-{y2}"]),
        "type": pa.array(["schoolYear", "semester", "semester"]),
        "startDate": pa.array(np.array([f"{y1}-08-18", f"{y1}-08-18", f"{y2}-01-06"], dtype="datetime64[D]")),
        "endDate": pa.array(np.array([f"{y2}-06-12", f"{y1}-12-19", f"{y2}-06-12"], dtype="datetime64[D]")),
        "parentSourcedId": pa.array([None, year_id, year_id], pa.string()),
        "schoolYear": pa.array([str(y2)] * 3),
    }, 3)
    rows["academicSessions"] = _write(sessions, out / "academicSessions.csv")

    # ---------------------------------------------------------------- families and students
    # Family sizes 1-3 (siblings share a family name and guardians); 1-2 guardians per family.
    sizes = rng.choice(np.array([1, 2, 3]), size=n_stu + 8, p=[0.80, 0.16, 0.04])
    ends = np.cumsum(sizes)
    n_fam = int(np.searchsorted(ends, n_stu) + 1)
    sizes = sizes[:n_fam].copy()
    sizes[-1] -= int(ends[n_fam - 1] - n_stu)
    fam_start = np.cumsum(sizes) - sizes
    stu_fam = np.repeat(np.arange(n_fam), sizes)
    fam_name = rng.integers(0, len(FAMILY_NAMES), n_fam)

    grade = rng.integers(0, 13, n_stu)
    sex_code = rng.choice(np.array([0, 1, 2], dtype=np.int8), size=n_stu, p=[0.4985, 0.4985, 0.003])
    # birth date: born Sep 2 (y1-6-g) .. Sep 1 (y1-5-g); a few are a year older or younger
    age_shift = rng.choice(np.array([-1, 0, 1]), size=n_stu, p=[0.02, 0.95, 0.03])
    cutoff = np.array([np.datetime64(f"{y1 - 5 - g}-09-01") for g in range(-1, 14)])
    birth = cutoff[grade + 1 - age_shift] - rng.integers(0, 365, n_stu).astype("timedelta64[D]")

    # Twins: a few two-child families get the same grade and birth date, different first names.
    pairs = np.flatnonzero(sizes == 2)
    n_twins = min(len(pairs), max(1, n_fam // 400)) if len(pairs) else 0
    twin_fams = rng.choice(pairs, size=n_twins, replace=False) if n_twins else np.array([], dtype=np.int64)
    tw_a, tw_b = fam_start[twin_fams], fam_start[twin_fams] + 1
    grade[tw_b] = grade[tw_a]
    birth[tw_b] = birth[tw_a]

    # school: a random school serving the student's grade
    stu_school = np.empty(n_stu, dtype=np.int64)
    for g in range(13):
        serving = np.flatnonzero((sch_lo <= g) & (sch_hi >= g))
        sel = np.flatnonzero(grade == g)
        stu_school[sel] = serving[rng.integers(0, len(serving), len(sel))]
    stu_school[tw_b] = stu_school[tw_a]

    # first names by sex (other: either list), different for twins
    n_f, n_m = len(FEMALE_NAMES), len(MALE_NAMES)
    first_all = FEMALE_NAMES + MALE_NAMES
    pick_male = (sex_code == 1) | ((sex_code == 2) & (rng.random(n_stu) < 0.5))
    first = np.where(pick_male, n_f + rng.integers(0, n_m, n_stu), rng.integers(0, n_f, n_stu))
    same = first[tw_b] == first[tw_a]
    first[tw_b[same]] = np.where(first[tw_b[same]] >= n_f,
                                 n_f + (first[tw_b[same]] - n_f + 1) % n_m,
                                 (first[tw_b[same]] + 1) % n_f)
    has_middle = rng.random(n_stu) < 0.45
    middle = np.where(pick_male, n_f + rng.integers(0, n_m, n_stu), rng.integers(0, n_f, n_stu))
    stu_family = fam_name[stu_fam]

    # ---------------------------------------------------------------- courses
    catalog = _course_catalog()
    cat_title = [c[0] for row in catalog for c in row]
    cat_code = [c[1] for row in catalog for c in row]
    cat_subject = [c[2] for row in catalog for c in row]
    sch_ngrades = sch_hi - sch_lo + 1
    crs_school = np.repeat(np.arange(n_sch), sch_ngrades * SLOTS)
    n_crs = len(crs_school)
    grade_base = np.zeros((n_sch, 13), dtype=np.int64) - 1  # course index of slot 0 per school/grade
    crs_grade = np.empty(n_crs, dtype=np.int64)
    crs_slot = np.tile(np.arange(SLOTS), n_crs // SLOTS)
    pos = 0
    for s in range(n_sch):
        for g in range(sch_lo[s], sch_hi[s] + 1):
            grade_base[s, g] = pos
            crs_grade[pos: pos + SLOTS] = g
            pos += SLOTS
    cat_idx = crs_grade * SLOTS + crs_slot
    w_crs = _width(n_crs + reference_errors + 1, 5)
    crs_ids = _fixed("crs-", np.arange(1, n_crs + 1), w_crs)
    crs_title = _take(cat_title, cat_idx)
    courses = _table("courses", {
        "sourcedId": crs_ids,
        "schoolYearSourcedId": _take([year_id], np.zeros(n_crs, dtype=np.int64)),
        "title": crs_title,
        "courseCode": _take(cat_code, cat_idx),
        "grades": _take(GRADE_CODES, crs_grade),
        "orgSourcedId": sch_ids.take(pa.array(crs_school)),
        "subjects": _take(cat_subject, cat_idx),
    }, n_crs)
    rows["courses"] = _write(courses, out / "courses.csv")
    del courses

    # ---------------------------------------------------------------- student schedules -> classes
    take_slot = np.ones((n_stu, SLOTS), dtype=bool)
    take_slot[:, 6] = rng.random(n_stu) < 0.75
    take_slot[:, 7] = rng.random(n_stu) < 0.25
    e_stu, e_slot = np.nonzero(take_slot)
    del take_slot
    e_course = grade_base[stu_school[e_stu], grade[e_stu]] + e_slot
    del e_slot
    per_course = np.bincount(e_course, minlength=n_crs)
    cap = CLASS_SIZE[crs_grade]
    n_sec = -(-per_course // cap)
    n_cls = int(n_sec.sum())
    cls_off = np.cumsum(n_sec) - n_sec
    # balanced sections: the k-th student of a course (in a random order) goes to section k % n_sec
    shuffle_key = e_course * (1 << 24) + rng.integers(0, 1 << 24, len(e_course))
    order = np.argsort(shuffle_key, kind="stable")
    del shuffle_key
    rank = np.empty(len(e_course), dtype=np.int64)
    rank[order] = np.arange(len(e_course)) - (np.cumsum(per_course) - per_course)[e_course[order]]
    del order
    e_class = cls_off[e_course] + rank % n_sec[e_course]
    del rank
    cls_course = np.repeat(np.arange(n_crs), n_sec)
    cls_section = np.arange(n_cls) - cls_off[cls_course]
    cls_school = crs_school[cls_course]
    cls_slot = crs_slot[cls_course]
    cls_grade = crs_grade[cls_course]

    # teachers: about one per 20 students at each school; classes dealt out round-robin
    stu_per_school = np.bincount(stu_school, minlength=n_sch)
    tch_per_school = np.maximum(1, np.round(stu_per_school / 20).astype(np.int64))
    tch_off = np.cumsum(tch_per_school) - tch_per_school
    n_tch = int(tch_per_school.sum())
    tch_school = np.repeat(np.arange(n_sch), tch_per_school)
    cls_school_start = np.searchsorted(cls_school, np.arange(n_sch))
    cls_rank = np.arange(n_cls) - cls_school_start[cls_school]
    cls_teacher = tch_off[cls_school] + cls_rank % tch_per_school[cls_school]

    # term: core courses all year; electives (slots 6-7) one semester, alternating by section
    term_idx = np.where(cls_slot < 6, 0, 1 + cls_section % 2)
    cls_course_ref = cls_course.copy()
    n_err = [reference_errors // 3 + (1 if i < reference_errors % 3 else 0) for i in range(3)]
    err_user, err_class, err_course = n_err
    if err_course:
        bad = rng.choice(n_cls, size=min(err_course, n_cls), replace=False)
        cls_course_ref[np.sort(bad)] = n_crs + np.arange(len(bad))  # no such course
    w_cls = _width(n_cls + reference_errors + 1, 6)
    cls_ids = _fixed("cls-", np.arange(1, n_cls + 1), w_cls)
    sec_str = pc.cast(pa.array(cls_section + 1), pa.string())
    classes = _table("classes", {
        "sourcedId": cls_ids,
        "title": _join(crs_title.take(pa.array(cls_course)), sec_str, sep=" - Section "),
        "grades": _take(GRADE_CODES, cls_grade),
        "courseSourcedId": _fixed("crs-", cls_course_ref + 1, w_crs),
        "classCode": _join(_take(cat_code, cls_grade * SLOTS + cls_slot), _fixed("", cls_section + 1, 2), sep="-"),
        "classType": _take(["scheduled", "homeroom"], ((cls_slot == 0) & (cls_grade <= 5)).astype(np.int64)),
        "location": _fixed("Room ", 100 + (cls_rank * 7 + cls_slot) % 140, 3),
        "schoolSourcedId": sch_ids.take(pa.array(cls_school)),
        "termSourcedIds": _take([f"{t1_id},{t2_id}", t1_id, t2_id], term_idx),
        "subjects": _take(cat_subject, cls_grade * SLOTS + cls_slot),
        "periods": _take([str(p) for p in range(1, SLOTS + 1)], cls_slot),
    }, n_cls)
    rows["classes"] = _write(classes, out / "classes.csv")
    del classes, sec_str, crs_title

    # ---------------------------------------------------------------- users
    w_stu = _width(n_stu + reference_errors + 1, 7)
    stu_ids = _fixed("stu-", np.arange(1, n_stu + 1), w_stu)
    fam_guardians = rng.choice(np.array([1, 2]), size=n_fam, p=[0.75, 0.25])
    n_gdn = int(fam_guardians.sum())
    gdn_off = np.cumsum(fam_guardians) - fam_guardians
    w_gdn = _width(n_gdn, 7)
    gdn_ids = _fixed("gdn-", np.arange(1, n_gdn + 1), w_gdn)
    w_tch = _width(n_tch, 5)
    tch_ids = _fixed("tch-", np.arange(1, n_tch + 1), w_tch)

    first_slug = [_slug(x) for x in first_all]
    family_slug = [_slug(x) for x in FAMILY_NAMES]
    initials = [s[0] for s in first_slug]
    first_arr = pa.array(list(first_all), pa.string())
    family_arr = pa.array(list(FAMILY_NAMES), pa.string())
    first_slug_arr = pa.array(first_slug, pa.string())
    family_slug_arr = pa.array(family_slug, pa.string())

    def people(rng_first: np.ndarray, rng_family: np.ndarray) -> tuple[pa.Array, pa.Array]:
        return first_arr.take(pa.array(rng_first)), family_arr.take(pa.array(rng_family))

    # students
    idw = max(6, len(str(n_stu)))
    stu_local = rng.permutation(n_stu) + 10**idw
    stu_local_str = pc.cast(pa.array(stu_local), pa.string())
    state_num = (np.arange(n_stu, dtype=np.int64) * 2654435761 + int(rng.integers(0, 9 * 10**9))) % (9 * 10**9)
    stu_given, stu_family_arr = people(first, stu_family)
    stu_username = _join(_take(initials, first), family_slug_arr.take(pa.array(stu_family)), stu_local_str)
    g1 = gdn_off[stu_fam]
    stu_agents = _join(gdn_ids.take(pa.array(g1)),
                       _take(gdn_ids, g1 + 1, fam_guardians[stu_fam] == 2), sep=",")
    students_tbl = _table("users", {
        "sourcedId": stu_ids,
        "enabledUser": pa.array(np.ones(n_stu, dtype=bool)),
        "orgSourcedIds": sch_ids.take(pa.array(stu_school)),
        "role": _take(["student"], np.zeros(n_stu, dtype=np.int64)),
        "username": stu_username,
        "userIds": _fixed("{state:CA", state_num + 10**9, 10, "}"),
        "givenName": stu_given,
        "familyName": stu_family_arr,
        "middleName": _take(first_arr, middle, has_middle),
        "identifier": stu_local_str,
        "email": _join(stu_username, STUDENT_DOMAIN, sep="@"),
        "agentSourcedIds": stu_agents,
        "grades": _take(GRADE_CODES, grade),
    }, n_stu)
    del stu_username, stu_agents, stu_given, stu_family_arr

    # teachers
    tch_first = rng.integers(0, len(first_all), n_tch)
    tch_family = rng.integers(0, len(FAMILY_NAMES), n_tch)
    tch_given, tch_fam_arr = people(tch_first, tch_family)
    tch_num_str = pc.cast(pa.array(np.arange(1, n_tch + 1)), pa.string())
    tch_username = _join(first_slug_arr.take(pa.array(tch_first)), family_slug_arr.take(pa.array(tch_family)),
                         sep=".")
    tch_username = _join(tch_username, tch_num_str)
    emp = rng.permutation(n_tch) + 10**6
    teachers_tbl = _table("users", {
        "sourcedId": tch_ids,
        "enabledUser": pa.array(np.ones(n_tch, dtype=bool)),
        "orgSourcedIds": sch_ids.take(pa.array(tch_school)),
        "role": _take(["teacher"], np.zeros(n_tch, dtype=np.int64)),
        "username": tch_username,
        "userIds": _fixed("{employee:E", emp, 7, "}"),
        "givenName": tch_given,
        "familyName": tch_fam_arr,
        "identifier": _fixed("E", emp, 7),
        "email": _join(tch_username, STAFF_DOMAIN, sep="@"),
        "phone": _fixed("+1", rng.choice(np.array([209, 213, 310, 415, 510, 559, 619, 714, 916])) * 10**7
                        + 5550100 + np.arange(n_tch) % 100, 10),
    }, n_tch)

    # administrators: a principal per school and three at the district
    n_adm = n_sch + 3
    adm_first = rng.integers(0, len(first_all), n_adm)
    adm_family = rng.integers(0, len(FAMILY_NAMES), n_adm)
    adm_given, adm_fam_arr = people(adm_first, adm_family)
    adm_username = _join(_join(first_slug_arr.take(pa.array(adm_first)),
                               family_slug_arr.take(pa.array(adm_family)), sep="."),
                         pc.cast(pa.array(np.arange(1, n_adm + 1)), pa.string()), sep=".a")
    adm_org = pa.concat_arrays([sch_ids, pa.array([district_id] * 3)])
    admins_tbl = _table("users", {
        "sourcedId": _fixed("adm-", np.arange(1, n_adm + 1), _width(n_adm, 4)),
        "enabledUser": pa.array(np.ones(n_adm, dtype=bool)),
        "orgSourcedIds": adm_org,
        "role": _take(["administrator"], np.zeros(n_adm, dtype=np.int64)),
        "username": adm_username,
        "givenName": adm_given,
        "familyName": adm_fam_arr,
        "identifier": _fixed("A", np.arange(1, n_adm + 1) + 5000, 5),
        "email": _join(adm_username, STAFF_DOMAIN, sep="@"),
    }, n_adm)

    # guardians: children are the family's students (contiguous), orgs their distinct schools
    gdn_fam = np.repeat(np.arange(n_fam), fam_guardians)
    g_start = fam_start[gdn_fam]
    g_size = sizes[gdn_fam]
    c1 = g_start
    c2 = np.minimum(g_start + 1, n_stu - 1)
    c3 = np.minimum(g_start + 2, n_stu - 1)
    gdn_children = _join(stu_ids.take(pa.array(c1)), _take(stu_ids, c2, g_size >= 2),
                         _take(stu_ids, c3, g_size >= 3), sep=",")
    s1, s2, s3 = stu_school[c1], stu_school[c2], stu_school[c3]
    gdn_orgs = _join(sch_ids.take(pa.array(s1)), _take(sch_ids, s2, (g_size >= 2) & (s2 != s1)),
                     _take(sch_ids, s3, (g_size >= 3) & (s3 != s1) & (s3 != s2)), sep=",")
    second = np.zeros(n_gdn, dtype=bool)
    second[gdn_off[fam_guardians == 2] + 1] = True
    gdn_female = np.where(second, rng.random(n_gdn) < 0.3, rng.random(n_gdn) < 0.7)
    gdn_first = np.where(gdn_female, rng.integers(0, n_f, n_gdn), n_f + rng.integers(0, n_m, n_gdn))
    gdn_family = np.where(rng.random(n_gdn) < 0.85, fam_name[gdn_fam],
                          rng.integers(0, len(FAMILY_NAMES), n_gdn))
    gdn_given, gdn_fam_arr = people(gdn_first, gdn_family)
    gdn_local = rng.permutation(n_gdn) + 10**7
    gdn_email = _join(_join(first_slug_arr.take(pa.array(gdn_first)), family_slug_arr.take(pa.array(gdn_family)),
                            sep="."),
                      pc.cast(pa.array(gdn_local - 10**7 + 1), pa.string()))
    gdn_email = _join(gdn_email, _take(HOME_DOMAINS, rng.integers(0, len(HOME_DOMAINS), n_gdn)), sep="@")
    area = rng.choice(np.array([209, 213, 310, 323, 408, 415, 510, 559, 619, 626, 714, 818, 909, 916]), n_gdn)
    guardians_tbl = _table("users", {
        "sourcedId": gdn_ids,
        "enabledUser": pa.array(np.ones(n_gdn, dtype=bool)),
        "orgSourcedIds": gdn_orgs,
        "role": _take(["parent", "guardian", "relative"],
                      rng.choice(np.array([0, 1, 2]), size=n_gdn, p=[0.88, 0.10, 0.02])),
        "username": gdn_email,
        "givenName": gdn_given,
        "familyName": gdn_fam_arr,
        "identifier": _fixed("P", gdn_local, 8),
        "email": gdn_email,
        "sms": _take(_fixed("+1", area * 10**7 + 5550000 + rng.integers(0, 10**4, n_gdn), 10),
                     np.arange(n_gdn), rng.random(n_gdn) < 0.6),
        "phone": _fixed("+1", area * 10**7 + 5550000 + rng.integers(0, 10**4, n_gdn), 10),
        "agentSourcedIds": gdn_children,
    }, n_gdn)
    del gdn_children, gdn_orgs, gdn_email

    users = pa.concat_tables([admins_tbl, teachers_tbl, students_tbl, guardians_tbl])
    del admins_tbl, teachers_tbl, guardians_tbl, students_tbl
    rows["users"] = _write(users, out / "users.csv")
    del users

    # ---------------------------------------------------------------- enrollments
    n_se = len(e_stu)
    e_user_num = e_stu + 1
    e_class_num = e_class + 1
    if err_user or err_class:
        bad = rng.choice(n_se, size=min(err_user + err_class, n_se), replace=False)
        bu, bc = np.sort(bad[:err_user]), np.sort(bad[err_user:])
        e_user_num[bu] = n_stu + 1 + np.arange(len(bu))  # withdrawn/unknown student
        e_class_num[bc] = n_cls + 1 + np.arange(len(bc))  # no such class
    n_enr = n_se + n_cls
    w_enr = _width(n_enr, 8)
    enrollments = _table("enrollments", {
        "sourcedId": _fixed("enr-", np.arange(1, n_enr + 1), w_enr),
        "classSourcedId": pa.concat_arrays([_fixed("cls-", e_class_num, w_cls), cls_ids]),
        "schoolSourcedId": sch_ids.take(pa.array(np.concatenate([stu_school[e_stu], cls_school]))),
        "userSourcedId": pa.concat_arrays([_fixed("stu-", e_user_num, w_stu), tch_ids.take(pa.array(cls_teacher))]),
        "role": _take(["student", "teacher"], np.r_[np.zeros(n_se, dtype=np.int64), np.ones(n_cls, dtype=np.int64)]),
        "primary": pa.array(np.r_[np.zeros(n_se, dtype=bool), np.ones(n_cls, dtype=bool)]),
    }, n_enr)
    del e_user_num, e_class_num
    rows["enrollments"] = _write(enrollments, out / "enrollments.csv")
    del enrollments
    if gradebook:
        rows.update(_write_gradebook(out, seed=seed, year=(y1, y2), terms=(t1_id, t2_id), term_idx=term_idx,
                                     cls_ids=cls_ids, cls_course=cls_course, crs_ids=crs_ids,
                                     course_codes=_take(cat_code, cat_idx), stu_ids=stu_ids, e_stu=e_stu,
                                     e_class=e_class, w_enr=w_enr))
    del e_stu, e_class, e_course

    # ---------------------------------------------------------------- demographics
    race_p = np.array([0.01, 0.11, 0.14, 0.005, 0.695])  # AIAN, Asian, Black, NHPI, White
    primary_race = rng.choice(5, size=n_stu, p=race_p / race_p.sum())
    races = np.zeros((5, n_stu), dtype=bool)
    races[primary_race, np.arange(n_stu)] = True
    multi = rng.random(n_stu) < 0.06
    second_race = (primary_race + rng.integers(1, 5, n_stu)) % 5
    races[second_race[multi], np.flatnonzero(multi)] = True
    hispanic = rng.random(n_stu) < 0.30
    us_born = rng.random(n_stu) < 0.92
    demographics = _table("demographics", {
        "sourcedId": stu_ids,
        "birthDate": pa.array(birth),
        "sex": _take(["female", "male", "other"], sex_code),
        "americanIndianOrAlaskaNative": pa.array(races[0]),
        "asian": pa.array(races[1]),
        "blackOrAfricanAmerican": pa.array(races[2]),
        "nativeHawaiianOrOtherPacificIslander": pa.array(races[3]),
        "white": pa.array(races[4]),
        "demographicRaceTwoOrMoreRaces": pa.array(multi),
        "hispanicOrLatinoEthnicity": pa.array(hispanic),
        "countryOfBirthCode": _take(("US",) + FOREIGN_COUNTRIES,
                                    np.where(us_born, 0, 1 + rng.integers(0, len(FOREIGN_COUNTRIES), n_stu))),
        "stateOfBirthAbbreviation": _take(["CA", "TX", "NY", "AZ", "WA"],
                                          rng.choice(5, size=n_stu, p=[0.8, 0.06, 0.05, 0.05, 0.04]), us_born),
        "cityOfBirth": _take(CITIES, rng.integers(0, len(CITIES), n_stu), us_born & (rng.random(n_stu) < 0.5)),
    }, n_stu)
    rows["demographics"] = _write(demographics, out / "demographics.csv")
    del demographics

    # ---------------------------------------------------------------- manifest
    modes = {**{n: "bulk" for n in BULK_FILES}, **{n: "bulk" if gradebook else "absent" for n in ABSENT_FILES}}
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{VERSION}"]
    lines += [f"file.{name},{modes[name]}" for name in
              ("academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
               "demographics", "enrollments", "lineItems", "orgs", "resources", "results", "users")]
    lines += [f"source.systemName,{SYSTEM_NAME}"]
    (out / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {name: rows[name] for name in (*BULK_FILES, *(GRADEBOOK_FILES if gradebook else ()))}


def _write_gradebook(out: Path, *, seed: int, year: tuple[int, int], terms: tuple[str, str], term_idx: np.ndarray,
                     cls_ids: pa.Array, cls_course: np.ndarray, crs_ids: pa.Array, course_codes: pa.Array,
                     stu_ids: pa.Array, e_stu: np.ndarray, e_class: np.ndarray, w_enr: int) -> dict[str, int]:
    """The gradebook and resources files: line items per class, a result per student enrollment and line
    item, an e-book per course. ``e_stu``/``e_class``: the student enrollments (before any reference error)."""
    rng = np.random.default_rng([seed, 2])  # its own stream: the rostering files do not change
    y1, y2 = year
    rows: dict[str, int] = {}
    n_cls, n_li = len(cls_ids), len(LINE_ITEMS)
    rows["categories"] = _write(_table("categories", {
        "sourcedId": pa.array([c for c, _ in CATEGORIES]), "title": pa.array([t for _, t in CATEGORIES])},
        len(CATEGORIES)), out / "categories.csv")

    # line items: class-major, LINE_ITEMS order; a class runs in its first term (both for core classes)
    li_class = np.repeat(np.arange(n_cls), n_li)
    li_kind = np.tile(np.arange(n_li), n_cls)
    second = term_idx[li_class] == 2
    start = np.where(second, np.datetime64(f"{y2}-01-06"), np.datetime64(f"{y1}-08-18"))
    offset = np.array([k[3] for k in LINE_ITEMS])[li_kind].astype("timedelta64[D]")
    assign = start + offset
    due = assign + np.array([k[4] for k in LINE_ITEMS])[li_kind].astype("timedelta64[D]")
    w_cls = len(cls_ids[0].as_py()) - len("cls-")
    li_ids = _join(_fixed("li-", li_class + 1, w_cls), _fixed("", li_kind + 1, 1), sep="-")
    max_score = np.array([k[2] for k in LINE_ITEMS])[li_kind]
    rows["lineItems"] = _write(_table("lineItems", {
        "sourcedId": li_ids,
        "title": _take([k[0] for k in LINE_ITEMS], li_kind),
        "assignDate": pa.array(assign),
        "dueDate": pa.array(due),
        "classSourcedId": cls_ids.take(pa.array(li_class)),
        "categorySourcedId": _take([k[1] for k in LINE_ITEMS], li_kind),
        "gradingPeriodSourcedId": _take(list(terms), second.astype(np.int64)),
        "resultValueMin": _take(["0"], np.zeros(len(li_class), dtype=np.int64)),
        "resultValueMax": pc.cast(pa.array(max_score), pa.string()),
    }, len(li_class)), out / "lineItems.csv")

    # results: enrollment-major; most fully graded, some not submitted (score 0), a few late
    r_enr = np.repeat(np.arange(len(e_stu)), n_li)
    r_kind = np.tile(np.arange(n_li), len(e_stu))
    r_li = e_class[r_enr] * n_li + r_kind
    status = rng.choice(np.array([0, 1]), size=len(r_li), p=[0.96, 0.04])  # fully graded | not submitted
    score = np.where(status == 0, np.round(max_score[r_li] * rng.uniform(0.45, 1.0, len(r_li)), 1), 0.0)
    late = (status == 0) & (rng.random(len(r_li)) < 0.05)
    rows["results"] = _write(_table("results", {
        "sourcedId": _join(_fixed("res-", r_enr + 1, w_enr), _fixed("", r_kind + 1, 1), sep="-"),
        "lineItemSourcedId": li_ids.take(pa.array(r_li)),
        "studentSourcedId": stu_ids.take(pa.array(e_stu[r_enr])),
        "scoreStatus": _take(["fully graded", "not submitted"], status),
        "score": pc.cast(pa.array(score), pa.string()),
        "scoreDate": pa.array(due[r_li]),
        "comment": _take(["Turned in late"], np.zeros(len(r_li), dtype=np.int64), late),
    }, len(r_li)), out / "results.csv")

    # resources: an e-book per course, given to the course and to each of its classes
    n_crs = len(crs_ids)
    w_crs = len(crs_ids[0].as_py()) - len("crs-")
    rsc_ids = _fixed("rsc-", np.arange(1, n_crs + 1), w_crs)
    rows["resources"] = _write(_table("resources", {
        "sourcedId": rsc_ids,
        "vendorResourceId": _join(pa.array(["ebook"] * n_crs), course_codes, crs_ids, sep="-"),
        "title": _join(course_codes, pa.array(["e-book"] * n_crs), sep=" "),
        "roles": _take(["student,teacher"], np.zeros(n_crs, dtype=np.int64)),
        "importance": _take(["primary"], np.zeros(n_crs, dtype=np.int64)),
        "vendorId": _take(["passport-press"], np.zeros(n_crs, dtype=np.int64)),
    }, n_crs), out / "resources.csv")
    rows["courseResources"] = _write(_table("courseResources", {
        "sourcedId": _fixed("crr-", np.arange(1, n_crs + 1), w_crs), "courseSourcedId": crs_ids,
        "resourceSourcedId": rsc_ids}, n_crs), out / "courseResources.csv")
    rows["classResources"] = _write(_table("classResources", {
        "sourcedId": _fixed("clr-", np.arange(1, n_cls + 1), w_cls), "classSourcedId": cls_ids,
        "resourceSourcedId": rsc_ids.take(pa.array(cls_course))}, n_cls), out / "classResources.csv")
    return rows


def generate_oneroster_zip(zip_path: Path, students: int, **kwargs) -> dict[str, int]:
    """Like :func:`generate_oneroster_district`, but the package is written as one zip file."""
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".district-", dir=zip_path.parent) as tmp:
        rows = generate_oneroster_district(Path(tmp), students, **kwargs)
        partial = zip_path.with_name(zip_path.name + ".partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for name in ("manifest.csv", *(f"{n}.csv" for n in rows)):
                # fixed timestamp so that the same seed gives the same zip
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                with open(Path(tmp) / name, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        partial.replace(zip_path)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.synthetic.district",
        description="Write a synthetic OneRoster 1.1 CSV district (bulk).",
    )
    parser.add_argument("out_dir", type=Path, help="folder to write (or the zip file, with --zip)")
    parser.add_argument("--students", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--school-year", default="2025-2026")
    parser.add_argument("--reference-errors", type=int, default=0)
    parser.add_argument("--zip", action="store_true", help="write OUT_DIR as a zip file instead of a folder")
    parser.add_argument("--gradebook", action="store_true",
                        help="also write the gradebook and resources files (categories, lineItems, results, ...)")
    args = parser.parse_args(argv)
    if args.students < 1 or args.reference_errors < 0:
        parser.error("--students must be >= 1 and --reference-errors >= 0")
    started = time.perf_counter()
    kwargs = dict(seed=args.seed, school_year=args.school_year, reference_errors=args.reference_errors,
                  gradebook=args.gradebook)
    if args.zip:
        rows = generate_oneroster_zip(args.out_dir, args.students, **kwargs)
    else:
        rows = generate_oneroster_district(args.out_dir, args.students, **kwargs)
    elapsed = time.perf_counter() - started
    for name, count in rows.items():
        print(f"{name}.csv\t{count}")
    print(f"total\t{sum(rows.values())}\t({elapsed:.1f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
