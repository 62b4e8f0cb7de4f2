//! Name, street and house-name lists, nicknames, and the one-edit typo used for error injection.

use super::rng::Rng;

/// Census top-level ethnic groups, as the schemas code them.
pub(crate) const ETHNICITIES: &[&str] = &["WHITE", "MIXED", "ASIAN", "BLACK", "OTHER", "NOT_STATED"];
/// Index of `WHITE` in [`ETHNICITIES`].
pub(crate) const WHITE: u8 = 0;
/// Index of `MIXED` in [`ETHNICITIES`].
pub(crate) const MIXED: u8 = 1;
/// Index of `NOT_STATED` in [`ETHNICITIES`].
pub(crate) const NOT_STATED: u8 = 5;

/// Names for one cultural naming group.
pub(crate) struct NamePool {
    pub boys: &'static [&'static str],
    pub girls: &'static [&'static str],
    pub men: &'static [&'static str],
    pub women: &'static [&'static str],
    pub surnames: &'static [&'static str],
}

/// White British names (the default pool).
const BRITISH: NamePool = NamePool {
    boys: &[
        "Oliver",
        "George",
        "Harry",
        "Noah",
        "Jack",
        "Leo",
        "Arthur",
        "Oscar",
        "Charlie",
        "Jacob",
        "Freddie",
        "Alfie",
        "Theo",
        "Archie",
        "Thomas",
        "William",
        "Henry",
        "Joshua",
        "James",
        "Alexander",
        "Samuel",
        "Joseph",
        "Edward",
        "Max",
        "Louie",
        "Teddy",
        "Reggie",
        "Finley",
        "Lucas",
        "Ethan",
        "Daniel",
        "Benjamin",
        "Alfred",
        "Frederick",
        "Theodore",
        "Charles",
        "Matthew",
        "Logan",
        "Dylan",
        "Tyler",
        "Callum",
        "Connor",
        "Riley",
        "Jenson",
        "Seán",
        "Rory",
        "Harrison",
        "Toby",
        "Isaac",
        "Jude",
    ],
    girls: &[
        "Olivia",
        "Amelia",
        "Isla",
        "Ava",
        "Mia",
        "Ivy",
        "Lily",
        "Isabella",
        "Sophia",
        "Grace",
        "Freya",
        "Poppy",
        "Evie",
        "Ella",
        "Willow",
        "Florence",
        "Emily",
        "Charlotte",
        "Daisy",
        "Sienna",
        "Millie",
        "Ruby",
        "Phoebe",
        "Rosie",
        "Elsie",
        "Matilda",
        "Eleanor",
        "Katherine",
        "Elizabeth",
        "Jessica",
        "Chloe",
        "Holly",
        "Megan",
        "Lauren",
        "Zoë",
        "Chloë",
        "Niamh",
        "Erin",
        "Abigail",
        "Harriet",
        "Scarlett",
        "Maisie",
        "Esmé",
        "Imogen",
        "Rebecca",
        "Victoria",
    ],
    men: &[
        "David",
        "James",
        "Daniel",
        "Matthew",
        "Christopher",
        "Michael",
        "Thomas",
        "Robert",
        "William",
        "Richard",
        "Andrew",
        "Mark",
        "Paul",
        "Steven",
        "Jonathan",
        "Benjamin",
        "Samuel",
        "Lee",
        "Craig",
        "Darren",
        "Jason",
        "Stuart",
        "Gareth",
        "Simon",
        "Adam",
        "Ryan",
        "Liam",
        "Carl",
        "Wayne",
        "Nicholas",
        "Edward",
        "Anthony",
        "Joseph",
        "Peter",
        "Martin",
        "Kevin",
        "Scott",
        "Dean",
        "Ian",
        "Alexander",
        "Stephen",
        "Rhys",
        "Seán",
    ],
    women: &[
        "Sarah",
        "Emma",
        "Laura",
        "Rebecca",
        "Katherine",
        "Charlotte",
        "Hannah",
        "Jessica",
        "Rachel",
        "Victoria",
        "Elizabeth",
        "Amy",
        "Lucy",
        "Gemma",
        "Nicola",
        "Claire",
        "Kelly",
        "Samantha",
        "Louise",
        "Jennifer",
        "Natalie",
        "Stacey",
        "Leanne",
        "Kirsty",
        "Joanne",
        "Michelle",
        "Lisa",
        "Helen",
        "Catherine",
        "Sophie",
        "Jade",
        "Danielle",
        "Abigail",
        "Margaret",
        "Siân",
        "Renée",
        "Zoë",
        "Aoife",
        "Siobhan",
        "Harriet",
    ],
    surnames: &[
        "Smith",
        "Jones",
        "Williams",
        "Taylor",
        "Brown",
        "Davies",
        "Evans",
        "Wilson",
        "Thomas",
        "Johnson",
        "Roberts",
        "Robinson",
        "Thompson",
        "Wright",
        "Walker",
        "White",
        "Edwards",
        "Hughes",
        "Green",
        "Hall",
        "Lewis",
        "Harris",
        "Clarke",
        "Jackson",
        "Wood",
        "Turner",
        "Martin",
        "Cooper",
        "Hill",
        "Ward",
        "Morris",
        "Moore",
        "Clark",
        "Lee",
        "King",
        "Baker",
        "Harrison",
        "Morgan",
        "Allen",
        "James",
        "Scott",
        "Phillips",
        "Watson",
        "Davis",
        "Parker",
        "Price",
        "Bennett",
        "Young",
        "Griffiths",
        "Mitchell",
        "Kelly",
        "Cook",
        "Carter",
        "Richardson",
        "Bailey",
        "Collins",
        "Bell",
        "Shaw",
        "Murphy",
        "Miller",
        "Cox",
        "Richards",
        "Marshall",
        "Anderson",
        "Simpson",
        "Ellis",
        "Adams",
        "Wilkinson",
        "Foster",
        "Chapman",
        "Powell",
        "Webb",
        "Rogers",
        "Gray",
        "Mason",
        "Hunt",
        "Campbell",
        "Matthews",
        "Owen",
        "Palmer",
        "Holmes",
        "Mills",
        "Barnes",
        "Knight",
        "Lloyd",
        "Butler",
        "Russell",
        "Barker",
        "Fisher",
        "Stevens",
        "Jenkins",
        "Murray",
        "Dixon",
        "Harvey",
        "O'Brien",
        "O'Neill",
        "McDonald",
        "Fitzgerald",
        "Gallagher",
        "Pennington",
        "Ashdown",
        "Tulley",
        "Goring",
        "Steyning",
        "Buckland",
        "Pollard",
    ],
};

/// Polish names (the largest White Other group in West Sussex).
const POLISH: NamePool = NamePool {
    boys: &["Jakub", "Kacper", "Szymon", "Filip", "Antoni", "Jan", "Aleksander", "Franciszek", "Mikołaj"],
    girls: &["Zuzanna", "Julia", "Maja", "Zofia", "Lena", "Hanna", "Alicja", "Natalia", "Oliwia"],
    men: &["Łukasz", "Piotr", "Tomasz", "Krzysztof", "Marcin", "Paweł", "Michał", "Grzegorz", "Bartosz"],
    women: &["Agnieszka", "Katarzyna", "Małgorzata", "Anna", "Magdalena", "Joanna", "Monika", "Ewa", "Marta"],
    surnames: &[
        "Nowak",
        "Wójcik",
        "Kowalczyk",
        "Mazur",
        "Krawczyk",
        "Zając",
        "Król",
        "Wieczorek",
        "Woźniak",
        "Kaczmarek",
    ],
};

/// South Asian and Goan names.
const ASIAN: NamePool = NamePool {
    boys: &[
        "Muhammad", "Ibrahim", "Yusuf", "Zain", "Ayaan", "Hamza", "Arjun", "Rohan", "Aarav", "Krish", "Ismail", "Adam",
        "Zayn", "Ethan",
    ],
    girls: &[
        "Aisha", "Maryam", "Zara", "Inaya", "Hafsa", "Aaliyah", "Anaya", "Diya", "Riya", "Amira", "Sara", "Noor",
        "Isabella",
    ],
    men: &[
        "Mohammed", "Imran", "Asif", "Tariq", "Rajesh", "Sanjay", "Amit", "Vijay", "Sunil", "Faisal", "Naveed", "Arif",
        "Ravi", "Deepak", "Joseph", "Anthony",
    ],
    women: &[
        "Fatima", "Aisha", "Ayesha", "Shazia", "Nazia", "Priya", "Anjali", "Sunita", "Farah", "Saima", "Rukhsana",
        "Nasreen", "Pooja", "Neha", "Maria",
    ],
    surnames: &[
        "Khan",
        "Ahmed",
        "Hussain",
        "Ali",
        "Patel",
        "Shah",
        "Akhtar",
        "Iqbal",
        "Mahmood",
        "Rahman",
        "Chaudhry",
        "Sharma",
        "Singh",
        "Gill",
        "Mistry",
        "Desai",
        "Fernandes",
        "D'Souza",
        "Pereira",
        "Rodrigues",
    ],
};

/// Black African and Caribbean names.
const BLACK: NamePool = NamePool {
    boys: &["Jayden", "Elijah", "Joshua", "David", "Samuel", "Tobi", "Daniel", "Malachi", "Nathan", "Micah", "Kofi"],
    girls: &["Amara", "Favour", "Precious", "Zara", "Kemi", "Naomi", "Hope", "Tiana", "Adaeze", "Chloe", "Abigail"],
    men: &[
        "Kwame",
        "Kofi",
        "Emmanuel",
        "Samuel",
        "Daniel",
        "Michael",
        "Oluwaseun",
        "Chinedu",
        "Tunde",
        "Joseph",
        "Jerome",
        "Marcus",
    ],
    women: &[
        "Abena",
        "Ama",
        "Grace",
        "Blessing",
        "Ngozi",
        "Chioma",
        "Funmilayo",
        "Esther",
        "Precious",
        "Folake",
        "Shanice",
        "Keisha",
    ],
    surnames: &[
        "Okafor", "Mensah", "Adeyemi", "Owusu", "Boateng", "Osei", "Asante", "Adebayo", "Okonkwo", "Campbell",
        "Williams", "Johnson", "Clarke", "Thomas",
    ],
};

/// Other groups: Turkish, Chinese, Filipino, Arab, Chagossian and Mauritian names.
const OTHER: NamePool = NamePool {
    boys: &["Omar", "Yusuf", "Mateo", "Daniel", "Emre", "Noah", "Lucas", "Adam", "Jean", "Kai"],
    girls: &["Lina", "Sofia", "Ela", "Mei", "Layla", "Maria", "Elif", "Ayşe", "Noémie", "Mia"],
    men: &["Ahmet", "Mehmet", "Omar", "Wei", "Jun", "Carlos", "José", "Miguel", "Hassan", "Louis", "Jean-Paul"],
    women: &["Elif", "Leila", "Mei", "Ling", "Maria", "Ana", "Yasmin", "Rosa", "Marie-Claire", "Josiane"],
    surnames: &[
        "Yilmaz",
        "Demir",
        "Chen",
        "Wang",
        "Li",
        "Santos",
        "Reyes",
        "Garcia",
        "Haddad",
        "Hassan",
        "Ibrahim",
        "Nguyen",
        "Pierre",
        "Bertrand",
        "Jean-Baptiste",
        "Laval",
    ],
};

/// The naming pool for an ethnicity (index into [`ETHNICITIES`]); White families are sometimes Polish.
pub(crate) fn pool(ethnicity: u8, polish: bool) -> &'static NamePool {
    match ethnicity {
        0 if polish => &POLISH,
        2 => &ASIAN,
        3 => &BLACK,
        4 => &OTHER,
        _ => &BRITISH,
    }
}

/// Formal forenames and the short forms people give instead.
const NICKNAMES: &[(&str, &[&str])] = &[
    ("William", &["Bill", "Will", "Billy"]),
    ("Katherine", &["Kate", "Katie", "Kath"]),
    ("Catherine", &["Cath", "Cathy", "Kate"]),
    ("Alfred", &["Alfie", "Alf"]),
    ("Robert", &["Rob", "Bob", "Bobby"]),
    ("Elizabeth", &["Liz", "Beth", "Lizzie"]),
    ("Thomas", &["Tom", "Tommy"]),
    ("James", &["Jim", "Jamie"]),
    ("Michael", &["Mike", "Mick"]),
    ("Daniel", &["Dan", "Danny"]),
    ("Matthew", &["Matt"]),
    ("Christopher", &["Chris"]),
    ("Samuel", &["Sam", "Sammy"]),
    ("Benjamin", &["Ben", "Benji"]),
    ("Alexander", &["Alex", "Xander"]),
    ("Aleksander", &["Olek"]),
    ("Joseph", &["Joe", "Joey"]),
    ("Jonathan", &["Jon", "Jonny"]),
    ("Richard", &["Rich", "Ricky", "Dick"]),
    ("Andrew", &["Andy", "Drew"]),
    ("Steven", &["Steve"]),
    ("Stephen", &["Steve"]),
    ("Nicholas", &["Nick", "Nicky"]),
    ("Edward", &["Ed", "Eddie", "Ted"]),
    ("Frederick", &["Fred", "Freddie"]),
    ("Theodore", &["Theo", "Teddy"]),
    ("Charles", &["Charlie", "Chas"]),
    ("Henry", &["Harry", "Hal"]),
    ("Rebecca", &["Becky", "Becca"]),
    ("Jessica", &["Jess", "Jessie"]),
    ("Victoria", &["Vicky", "Tori"]),
    ("Charlotte", &["Lottie", "Charlie"]),
    ("Abigail", &["Abbie", "Abby"]),
    ("Samantha", &["Sam", "Sammy"]),
    ("Jennifer", &["Jen", "Jenny"]),
    ("Margaret", &["Maggie", "Peggy"]),
    ("Isabella", &["Bella", "Izzy"]),
    ("Olivia", &["Liv", "Livvy"]),
    ("Amelia", &["Millie", "Mia"]),
    ("Eleanor", &["Ellie", "Nell"]),
    ("Florence", &["Flo", "Florrie"]),
    ("Matilda", &["Tilly", "Tilda"]),
    ("Harriet", &["Hattie"]),
    ("Anthony", &["Tony"]),
    ("Peter", &["Pete"]),
    ("Joshua", &["Josh"]),
    ("Jacob", &["Jake"]),
    ("Oliver", &["Ollie"]),
    ("Mohammed", &["Mo"]),
    ("Muhammad", &["Mo"]),
    ("Emmanuel", &["Manny"]),
    ("Oluwaseun", &["Seun"]),
    ("Natalie", &["Nat"]),
    ("Danielle", &["Dani"]),
    ("Stuart", &["Stu"]),
    ("Małgorzata", &["Gosia"]),
    ("Katarzyna", &["Kasia"]),
    ("Jakub", &["Kuba"]),
    ("Zuzanna", &["Zuzia"]),
    ("Gareth", &["Gaz"]),
    ("Rachel", &["Rach"]),
    ("Harrison", &["Harry"]),
];

/// The short forms of a formal forename, if it has any.
pub(crate) fn nicknames(forename: &str) -> Option<&'static [&'static str]> {
    NICKNAMES.iter().find(|(formal, _)| *formal == forename).map(|(_, n)| *n)
}

/// Street names (some with apostrophes and full stops, which the name folding must absorb).
pub(crate) const STREETS: &[&str] = &[
    "Acacia Avenue",
    "Church Road",
    "Station Road",
    "Victoria Road",
    "Mill Lane",
    "High Street",
    "The Street",
    "Park Road",
    "London Road",
    "Queens Road",
    "Kings Road",
    "Manor Road",
    "Southdown Road",
    "Downs View",
    "Orchard Close",
    "Meadow Way",
    "Beech Grove",
    "Oak Tree Close",
    "Chestnut Walk",
    "Willow Crescent",
    "Forest Road",
    "Brighton Road",
    "Worthing Road",
    "Ifield Drive",
    "Three Bridges Road",
    "Goffs Park Road",
    "Littlehampton Road",
    "Arundel Road",
    "Sea Lane",
    "Marine Parade",
    "Shoreham Road",
    "Harbour Way",
    "Ditchling Road",
    "Haywards Road",
    "Lindfield Avenue",
    "Cuckfield Lane",
    "Summersdale Road",
    "Broyle Road",
    "Bognor Road",
    "St. Mary's Close",
    "St John's Road",
    "Rectory Lane",
    "Windmill Drive",
    "Downland Crescent",
    "Heron Way",
    "Kingfisher Drive",
    "Swallow Rise",
    "Gorse Avenue",
    "Heather Close",
    "Furze Road",
    "Ash Grove",
    "Elm Park",
    "Hazel Way",
    "Rowan Close",
    "Cherry Tree Lane",
    "Holly Close",
    "Laurel Drive",
    "Cedar Way",
    "Sycamore Road",
    "Woodland Avenue",
    "Field Place",
    "Priory Road",
    "Abbey Road",
    "Castle Street",
    "West Street",
    "East Street",
    "North Street",
    "South Street",
    "New Road",
    "Green Lane",
    "Vicarage Lane",
    "School Lane",
    "Farm Close",
    "Nightingale Road",
    "Lark Rise",
    "Tangmere Road",
    "Selsey Road",
    "Felpham Way",
    "Rustington Avenue",
    "Lancing Park",
    "Sompting Road",
    "Durrington Lane",
    "Goring Way",
    "Ferring Street",
    "Broadwater Road",
    "Tarring Road",
    "Southwick Street",
    "Holmbush Way",
    "Pound Hill Parade",
    "Langley Drive",
    "Tilgate Way",
    "Bewbush Drive",
    "Broadfield Barton",
    "Southgate Avenue",
    "Northgate Road",
    "Roffey Road",
    "Pulborough Road",
    "Storrington Road",
    "Billingshurst Road",
    "Henfield Road",
    "Burgess Hill Road",
    "Keymer Road",
    "Hassocks Way",
    "East Grinstead Road",
    "Turners Hill Road",
];

/// House names, used with a number and street for a few rural addresses.
pub(crate) const HOUSE_NAMES: &[&str] = &[
    "Rose Cottage",
    "The Old Forge",
    "Orchard House",
    "Brook Cottage",
    "The Willows",
    "Holly Lodge",
    "Pear Tree Cottage",
    "The Granary",
    "Flint Cottage",
    "Downs View",
    "Oak Lodge",
    "The Coach House",
];

/// Applies one random edit (substitution, deletion, insertion or adjacent transposition) to the
/// letters of `name`, keeping the first letter. Returns `None` when no edit changes the name.
pub(crate) fn typo(name: &str, rng: &mut Rng) -> Option<String> {
    const LETTERS: &[u8] = b"abcdefghijklmnoprstuvwy";
    let chars: Vec<char> = name.chars().collect();
    // Positions of letters after the first character: editing those keeps the name recognisable.
    let letters: Vec<usize> = (1..chars.len()).filter(|&i| chars[i].is_alphabetic()).collect();
    if letters.len() < 2 {
        return None;
    }
    for _ in 0..8 {
        let mut out = chars.clone();
        let at = *rng.pick(&letters);
        let upper = chars[at].is_uppercase();
        let mut letter = char::from(*rng.pick(LETTERS));
        if upper {
            letter = letter.to_ascii_uppercase();
        }
        match rng.below(4) {
            0 => out[at] = letter,
            1 => {
                out.remove(at);
            }
            2 => out.insert(at, letter),
            _ => {
                if at + 1 < out.len() && out[at + 1].is_alphabetic() {
                    out.swap(at, at + 1);
                } else {
                    out[at] = letter;
                }
            }
        }
        let edited: String = out.into_iter().collect();
        let folded = tellonce_schemas::identifiers::names::fold(&edited);
        if !folded.is_empty() && folded != tellonce_schemas::identifiers::names::fold(name) {
            return Some(edited);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use tellonce_schemas::Kind;

    #[test]
    fn every_listed_name_and_street_is_a_valid_value() {
        for p in [&BRITISH, &POLISH, &ASIAN, &BLACK, &OTHER] {
            for n in p.boys.iter().chain(p.girls).chain(p.men).chain(p.women).chain(p.surnames) {
                assert!(Kind::PersonName.check(n).is_ok(), "{n}");
            }
        }
        for s in STREETS.iter().chain(HOUSE_NAMES) {
            assert!(Kind::AddressLine.check(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn a_typo_changes_the_folded_name_by_one_edit() {
        let mut rng = Rng::new(3);
        for name in ["Smith", "O'Brien", "Zoë", "Wójcik", "Jean-Baptiste"] {
            let t = typo(name, &mut rng).expect("editable");
            assert_ne!(
                tellonce_schemas::identifiers::names::fold(&t),
                tellonce_schemas::identifiers::names::fold(name)
            );
            assert!(t.chars().count().abs_diff(name.chars().count()) <= 1);
        }
        assert!(typo("Li", &mut rng).is_none());
    }

    #[test]
    fn nicknames_are_known_for_formal_names() {
        assert_eq!(nicknames("William").map(|n| n[0]), Some("Bill"));
        assert!(nicknames("Zoë").is_none());
    }
}
