//! Given-name equivalence classes: `BILL` and `WILLIAM` are one person's name.
//!
//! Each class is named by a formal name and holds the diminutives, pet forms and, for the
//! languages most spoken in the county after English (Polish, Portuguese, Romanian, and Arabic
//! and Urdu names in their usual transliterations), the cognates and spellings that partners
//! record for the same person. A diminutive of several formal names (`KATE`: Catherine or
//! Katherine; `ALEX`: Alexander or Alexandra) belongs to each of their classes. Distinct formal
//! spellings (`CATHERINE`, `KATHERINE`; `STEPHEN`, `STEVEN`) stay distinct classes: a spelling
//! difference is what the Bloom filters are for.
//!
//! All names are in match form (see [`match_form`](super::names::match_form)): upper-case ASCII,
//! no spaces.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The classes: a formal name, then its diminutives, pet forms, cognates and transliterations.
static GROUPS: &[(&str, &[&str])] = &[
    // English, men.
    ("ABRAHAM", &["ABE", "ABRAM"]),
    ("ALBERT", &["ALBIE", "BERT", "BERTIE"]),
    (
        "ALEXANDER",
        &[
            "ALEX",
            "ALEC",
            "ALEK",
            "ALEXANDRE",
            "ALEXANDRU",
            "ALEKSANDER",
            "ALEKSANDR",
            "OLEK",
            "SASHA",
            "SASZA",
            "SANDY",
            "SANDU",
            "XANDER",
            "LEX",
        ],
    ),
    ("ALFRED", &["ALF", "ALFIE", "FRED", "FREDDIE", "FREDDY"]),
    ("ANDREW", &["ANDY", "ANDIE", "DREW", "ANDRZEJ", "ANDREI", "ANDRE", "ANDREJ"]),
    ("ANTHONY", &["TONY", "ANT", "ANTONY", "ANTONIO", "ANTONI", "ANTEK", "ANTON", "TONI", "TO"]),
    ("ARCHIBALD", &["ARCHIE", "ARCHY"]),
    ("ARTHUR", &["ART", "ARTIE", "ARTUR"]),
    ("AUGUSTUS", &["GUS", "AUGIE", "AUGUST"]),
    ("BARTHOLOMEW", &["BART", "BARTEK", "BARTLOMIEJ", "BARTOSZ"]),
    ("BENJAMIN", &["BEN", "BENNY", "BENNIE", "BENJI", "BENJY"]),
    ("CALLUM", &["CAL", "CALUM"]),
    ("CAMERON", &["CAM"]),
    ("CHARLES", &["CHARLIE", "CHARLEY", "CHAS", "CHAZ", "CHUCK", "CARLOS", "KAROL"]),
    ("CHRISTIAN", &["CHRIS", "KRIS", "CHRISTIE", "CRISTIAN", "KRYSTIAN"]),
    ("CHRISTOPHER", &["CHRIS", "KRIS", "KIT", "TOPHER", "CHRISTY", "KRZYSZTOF", "KRZYS", "KRZYSIEK", "CRISTOVAO"]),
    ("CONSTANTINE", &["CONSTANTIN", "COSTEL", "COSTI", "COSTICA", "DINU", "KONSTANTY", "KOSTEK", "CON"]),
    ("DANIEL", &["DAN", "DANNY", "DANNIE", "DANI", "DANIELEK"]),
    ("DAVID", &["DAVE", "DAVEY", "DAVY", "DAVIE", "DAI", "DAWID"]),
    ("DECLAN", &["DEC"]),
    ("DOMINIC", &["DOM", "DOMINIK", "DOMINIQUE", "DOMINGOS"]),
    ("DONALD", &["DON", "DONNIE", "DONNY"]),
    ("DOUGLAS", &["DOUG", "DOUGIE"]),
    ("DUMITRU", &["MITICA", "DUMI", "DIMITRI", "DMITRI"]),
    ("EDMUND", &["ED", "EDDIE", "EDDY", "NED"]),
    ("EDWARD", &["ED", "EDDIE", "EDDY", "TED", "TEDDY", "NED", "NEDDY", "EDUARDO", "EDWARDO"]),
    ("EDWIN", &["ED", "EDDIE", "EDDY"]),
    ("ELIJAH", &["ELI", "ELIAS", "ILIE"]),
    ("EUGENE", &["GENE"]),
    ("EZEKIEL", &["ZEKE"]),
    ("FERDINAND", &["FERDIE", "FERDY", "FERNANDO", "NANDO"]),
    ("FRANCIS", &["FRANK", "FRANKIE", "FRAN", "FRANCISCO", "FRANCISZEK", "FRANEK", "CHICO", "XICO", "KIKO"]),
    ("FREDERICK", &["FRED", "FREDDIE", "FREDDY", "FREDRIC", "FREDERIC", "FRYDERYK"]),
    ("GABRIEL", &["GABE", "GABI", "GABY"]),
    ("GEORGE", &["GEORDIE", "GEORGIE", "JERZY", "JUREK", "JORGE", "GHEORGHE", "GICA", "GIGI"]),
    ("GERALD", &["GERRY", "JERRY", "GED"]),
    ("GERARD", &["GERRY", "GED"]),
    ("GILBERT", &["GIL", "BERT", "BERTIE"]),
    ("GREGORY", &["GREG", "GREGG", "GRZEGORZ", "GRZESIEK", "GRIGORE", "GREGORIO"]),
    ("HAROLD", &["HARRY", "HAL"]),
    ("HENRY", &["HARRY", "HAL", "HANK", "HENRYK", "HENRIQUE", "HENRI"]),
    ("HERBERT", &["HERB", "HERBIE", "BERT", "BERTIE"]),
    ("ISAAC", &["IKE", "IZAAK"]),
    ("JACOB", &["JAKE", "JAKEY", "JAKUB", "KUBA", "JACOBO", "IACOB", "JAKOB"]),
    ("JAMES", &["JIM", "JIMMY", "JIMMIE", "JAMIE", "JIMBO", "JAIME", "JAMESY"]),
    (
        "JOHN",
        &["JACK", "JOHNNY", "JOHNNIE", "JOCK", "JAN", "JANEK", "JAS", "JOAO", "IOAN", "ION", "IONUT", "IONEL", "JUAN"],
    ),
    ("JONATHAN", &["JON", "JONNY", "JONNIE", "JONTY", "JOHNNY"]),
    ("JOSEPH", &["JOE", "JOEY", "JO", "JOSE", "ZE", "JOZEF", "JOZIO", "IOSIF", "JOSEF", "GIUSEPPE"]),
    ("JOSHUA", &["JOSH", "JOSHY"]),
    ("JULIAN", &["JULES", "JULIUSZ", "JULIO", "IULIAN"]),
    ("KENNETH", &["KEN", "KENNY", "KENNIE"]),
    ("LAURENCE", &["LARRY", "LAURIE", "LAURI", "LOL", "LAWRIE"]),
    ("LAWRENCE", &["LARRY", "LAURIE", "LAURI", "LOL", "LAWRIE"]),
    ("LEONARD", &["LEN", "LENNY", "LENNIE", "LEO", "LEON"]),
    ("LOUIS", &["LOU", "LOUIE", "LUIS", "LUDWIK", "LUDOVIC"]),
    ("MARTIN", &["MARTY", "MARCIN", "MARTIM", "MARTINHO"]),
    ("MATTHEW", &["MATT", "MATTY", "MAT", "MATTIE", "MATEUSZ", "MATEUS", "MATEI", "MATEO"]),
    ("MAXIMILIAN", &["MAX", "MAXIE", "MAXI", "MAKS", "MAKSYMILIAN"]),
    ("MAXWELL", &["MAX", "MAXIE"]),
    (
        "MICHAEL",
        &[
            "MIKE", "MIKEY", "MICK", "MICKY", "MICKEY", "MICHAL", "MICHALEK", "MIHAI", "MIHAITA", "MIGUEL", "MICHEL",
            "MISHA",
        ],
    ),
    ("MONTAGUE", &["MONTY"]),
    ("MONTGOMERY", &["MONTY"]),
    ("NATHAN", &["NATE", "NAT"]),
    ("NATHANIEL", &["NATE", "NAT", "NATHAN"]),
    (
        "NICHOLAS",
        &["NICK", "NICKY", "NICKI", "NIC", "NICO", "NICOLAS", "MIKOLAJ", "NICOLAU", "NICOLAE", "NICU", "KLAUS"],
    ),
    ("OLIVER", &["OLLIE", "OLLY", "OLI"]),
    ("PATRICK", &["PAT", "PADDY", "PATSY", "PADRAIG", "PATRYK"]),
    ("PAUL", &["PAULIE", "PAWEL", "PAULO", "PAVEL", "PAOLO", "PAULINHO"]),
    ("PERCIVAL", &["PERCY"]),
    ("PETER", &["PETE", "PETEY", "PIOTR", "PIOTREK", "PEDRO", "PETRU", "PETRE", "PIETRO"]),
    ("PHILIP", &["PHIL", "PIP", "PHILLIP", "FILIP", "FELIPE"]),
    ("RAPHAEL", &["RAFA", "RAFAEL", "RAFAL"]),
    ("RAYMOND", &["RAY", "RAJMUND", "RAIMUNDO"]),
    ("REGINALD", &["REG", "REGGIE"]),
    ("RICHARD", &["RICH", "RICHIE", "RICK", "RICKY", "RICKIE", "DICK", "DICKIE", "RYSZARD", "RICARDO"]),
    ("ROBERT", &["ROB", "ROBBIE", "ROBBY", "BOB", "BOBBY", "BOBBIE", "BERT", "RAB", "ROBERTO"]),
    ("RODERICK", &["ROD", "RODDY", "RODRIGO"]),
    ("RONALD", &["RON", "RONNIE", "RONNY"]),
    ("SAMUEL", &["SAM", "SAMMY", "SAMMIE", "SAMUIL"]),
    ("SEBASTIAN", &["SEB", "SEBBY", "SEBI", "BASTIAN", "SEBASTIAO", "SEBASTIEN"]),
    ("SOLOMON", &["SOL", "SULEIMAN", "SULAIMAN", "SULEYMAN"]),
    ("STANISLAW", &["STAN", "STAS", "STASZEK"]),
    ("STANLEY", &["STAN"]),
    ("STEPHEN", &["STEVE", "STEVIE", "STEPH", "STEFAN", "STEFANO", "ESTEVAO", "STEFANEK"]),
    ("STEVEN", &["STEVE", "STEVIE"]),
    ("TERENCE", &["TERRY", "TEL"]),
    ("THEODORE", &["THEO", "TED", "TEDDY", "TEODOR"]),
    ("THOMAS", &["TOM", "TOMMY", "TOMMIE", "THOM", "TOMOS", "TOMASZ", "TOMEK", "TOMAS", "TOMA"]),
    ("TIMOTHY", &["TIM", "TIMMY", "TYMOTEUSZ"]),
    ("TOBIAS", &["TOBY", "TOBI", "TOBIASZ"]),
    ("VINCENT", &["VINCE", "VINNY", "VINNIE", "VICENTE", "WINCENTY"]),
    (
        "WILLIAM",
        &["BILL", "BILLY", "BILLIE", "WILL", "WILLIE", "WILLY", "WILLS", "LIAM", "GUILHERME", "GUILLERMO", "WILHELM"],
    ),
    ("WOJCIECH", &["WOJTEK", "WOJTUS"]),
    ("ZACHARY", &["ZACH", "ZACK", "ZAC", "ZAK", "ZACHARIAH", "ZAKARIYA", "ZAKARIA", "ZAKARIYYA"]),
    // English, women.
    ("ABIGAIL", &["ABBY", "ABBIE", "ABBEY", "ABI", "GAIL"]),
    (
        "ALEXANDRA",
        &["ALEX", "ALEXA", "ALEXIS", "LEXI", "LEXIE", "SANDRA", "SANDY", "SASHA", "ALEKSANDRA", "OLA", "OLENKA"],
    ),
    ("ALICE", &["ALLIE", "ALLY", "ALICJA", "ALIS"]),
    ("ALISON", &["ALLIE", "ALLY", "ALLISON"]),
    ("AMANDA", &["MANDY", "MANDA"]),
    ("AMELIA", &["MILLIE", "MILLY", "MELIA", "AMELIE"]),
    ("ANGELA", &["ANGIE", "ANGELIKA"]),
    ("ANNA", &["ANA", "ANIA", "ANKA", "ANUSIA", "ANNIE", "ANNI", "ANINHA"]),
    ("ANNE", &["ANN", "ANNIE", "NAN", "NANCY", "NANNIE"]),
    ("ANTONIA", &["TONI", "TONIA", "ANTONINA"]),
    ("BARBARA", &["BARB", "BARBIE", "BABS", "BASIA"]),
    ("BRIDGET", &["BIDDY", "BRIDIE", "BRIGID", "BRIGIDA"]),
    ("CAROLINE", &["CARRIE", "CARO", "CAROLINA", "KAROLINA", "LINA"]),
    (
        "CATHERINE",
        &[
            "CATH",
            "CATHY",
            "CATHIE",
            "CATE",
            "KATE",
            "KATIE",
            "KATY",
            "KAT",
            "KATHY",
            "KITTY",
            "KAY",
            "CATHRYN",
            "CATHARINE",
            "CATARINA",
            "CATRIONA",
            "KATARZYNA",
            "KASIA",
            "KASKA",
            "ECATERINA",
            "CATALINA",
        ],
    ),
    ("CHARLOTTE", &["CHARLIE", "CHARLEY", "LOTTIE", "LOTTY", "LOTTE", "LOTTA"]),
    ("CHRISTINA", &["CHRIS", "CHRISSY", "CHRISSIE", "TINA", "KRISTINA", "KRYSTYNA", "CRISTINA", "KIRSTY", "KRISTY"]),
    ("CHRISTINE", &["CHRIS", "CHRISSY", "CHRISSIE", "TINA", "KIRSTY", "KRISTY"]),
    ("CONSTANCE", &["CONNIE"]),
    ("CYNTHIA", &["CINDY"]),
    ("DANIELLE", &["DANI", "DANNI", "DANIELA", "DANIELLA"]),
    ("DEBORAH", &["DEB", "DEBBIE", "DEBBY", "DEBRA"]),
    ("DOROTHY", &["DOT", "DOTTIE", "DOLLY", "DODIE", "DOROTA", "DOROTEIA"]),
    ("ELEANOR", &["ELLIE", "ELLA", "NELL", "NELLIE", "NORA", "ELINOR", "ELENOR", "LEONOR"]),
    (
        "ELIZABETH",
        &[
            "ELIZA",
            "LIZ",
            "LIZZIE",
            "LIZZY",
            "LIZA",
            "BETH",
            "BETTY",
            "BETTIE",
            "BETSY",
            "BESS",
            "BESSIE",
            "ELSIE",
            "ELSA",
            "LIBBY",
            "LISA",
            "ELLIE",
            "ELISABETH",
            "ELZBIETA",
            "ELA",
            "ELISABETA",
            "ELISABETE",
        ],
    ),
    ("EMILY", &["EM", "EMMY", "MILLIE", "MILLY", "EMILIA"]),
    ("EMMA", &["EM", "EMMY", "EMMIE"]),
    ("ESTHER", &["ESSIE", "HETTY", "ESTERA"]),
    ("EVA", &["EVIE", "EVE", "EWA", "EWUNIA"]),
    ("EVELYN", &["EVIE", "EVE", "EVELINA", "EWELINA"]),
    ("FELICITY", &["FLICK", "FLISS", "FLICKY"]),
    ("FLORENCE", &["FLO", "FLOSSIE", "FLORRIE", "FLORENTINA"]),
    ("FRANCES", &["FRAN", "FRANNIE", "FRANKIE"]),
    ("FRANCESCA", &["FRAN", "FRANKIE", "CHESCA", "FRANCISZKA", "FRANCISCA"]),
    ("GABRIELLE", &["GABBY", "GABBIE", "GABI", "GABRIELA", "GABRIELLA"]),
    ("GEORGINA", &["GEORGIE", "GINA", "GEORGIA"]),
    ("GILLIAN", &["GILL", "GILLY", "JILL"]),
    ("GWENDOLINE", &["GWEN", "GWENDOLYN"]),
    ("HARRIET", &["HATTIE", "HETTY", "HARRIE"]),
    ("HELEN", &["NELL", "NELLIE", "ELLIE", "ELENA", "HELENA", "HELENKA", "LENA", "ILEANA"]),
    ("HENRIETTA", &["HETTY", "ETTA", "HATTIE"]),
    ("ISABELLA", &["IZZY", "IZZIE", "ISSY", "BELLA", "BELLE", "ISA", "IZABELA", "IZABELLA"]),
    ("ISABEL", &["IZZY", "IZZIE", "ISSY", "BELLE", "ISA", "ISOBEL", "IZABEL", "ISABELLE"]),
    ("JACQUELINE", &["JACKIE", "JACKY", "JACQUI", "JACQUIE"]),
    ("JASMINE", &["JAS", "JAZ", "JAZZY", "JASMIN", "JAZMIN"]),
    ("JENNIFER", &["JEN", "JENN", "JENNY", "JENNI", "JENNIE"]),
    ("JESSICA", &["JESS", "JESSIE", "JESSY"]),
    ("JOANNA", &["JO", "JOJO", "JOANNE", "JOANA", "IOANA", "ASIA", "JOASIA"]),
    ("JOSEPHINE", &["JO", "JOSIE", "JOSEY", "JOSEFINA", "JOZEFINA"]),
    ("JULIA", &["JULES", "JULIE", "JULKA", "IULIA"]),
    (
        "KATHERINE",
        &["KATE", "KATIE", "KATY", "KAT", "KATH", "KATHY", "KATHIE", "KITTY", "KAY", "KATHRYN", "KATHARINE", "KATRINA"],
    ),
    ("KIMBERLEY", &["KIM", "KIMBERLY"]),
    ("LILIAN", &["LILY", "LILLY", "LIL", "LILLIAN", "LILIANA"]),
    ("LOUISA", &["LOU", "LULU", "LUIZA"]),
    ("LOUISE", &["LOU", "LULU", "LUIZA"]),
    ("LUCINDA", &["CINDY", "LUCY"]),
    ("MADELEINE", &["MADDIE", "MADDY", "MADELINE", "MADALINA"]),
    ("MAGDALENA", &["MAGDA", "MADZIA", "MADALENA"]),
    (
        "MARGARET",
        &[
            "MAGGIE",
            "MAG",
            "MEG",
            "PEGGY",
            "PEG",
            "MADGE",
            "MARGE",
            "MARGIE",
            "GRETA",
            "RITA",
            "MAISIE",
            "MARGARIDA",
            "MALGORZATA",
            "GOSIA",
            "MALGOSIA",
            "MARGARETA",
            "MARGARITA",
        ],
    ),
    ("MARTHA", &["MATTIE", "MARTY", "MARTA"]),
    ("MARY", &["MOLLY", "POLLY", "MAE", "MAY", "MAMIE", "MARIA", "MARYSIA", "MARIE", "MAIRE"]),
    ("MATILDA", &["TILLY", "TILLIE", "TILDA", "MATTIE", "MATYLDA"]),
    ("MEGAN", &["MEG", "MEGGIE"]),
    ("MICHELLE", &["SHELLEY", "SHELLY", "MICHELE", "MICHAELA", "MIHAELA"]),
    ("NATALIE", &["NAT", "NATTY", "NATALIA", "NATALYA", "TALIA"]),
    ("NATASHA", &["NAT", "TASHA", "TASH"]),
    ("NICOLA", &["NICKY", "NIKKI", "NICKI", "NIKI", "NIC", "NICOLETA"]),
    ("NICOLE", &["NICKY", "NIKKI", "NICKI", "NIKI", "NIC"]),
    ("OLIVIA", &["LIV", "LIVVY", "LIVVIE", "OLLIE", "OLIWIA"]),
    ("PATRICIA", &["PAT", "PATTY", "PATTI", "PATSY", "TRISH", "TRISHA", "TRICIA", "PATRYCJA"]),
    ("PENELOPE", &["PENNY", "PEN"]),
    ("PHILIPPA", &["PIPPA", "PIP", "PHILLIPA"]),
    ("REBECCA", &["BECKY", "BECKIE", "BECCA", "BEX", "BECS", "REBEKAH"]),
    ("ROSE", &["ROSIE", "ROSA", "ROZA"]),
    ("ROSEMARY", &["ROSIE", "ROSEMARIE"]),
    ("SAMANTHA", &["SAM", "SAMMY", "SAMMIE", "SAMMI"]),
    ("SARAH", &["SARA", "SAL", "SALLY", "SADIE", "SARI"]),
    ("SOPHIA", &["SOPH", "SOPHIE", "SOFIA", "ZOFIA", "ZOSIA", "SOFIE"]),
    ("STEPHANIE", &["STEPH", "STEFF", "STEFANIA"]),
    ("SUSAN", &["SUE", "SUSIE", "SUZIE", "SUZY", "SUSY"]),
    ("SUSANNAH", &["SUE", "SUSIE", "SUZIE", "SUSANNA", "SUZANNE", "ZUZANNA", "ZUZIA"]),
    ("TERESA", &["TESS", "TESSA", "TERRI", "TERRY", "TEREZA"]),
    ("THERESA", &["TESS", "TESSA", "TERRI", "TERRY"]),
    ("VALERIE", &["VAL"]),
    ("VERONICA", &["RONNIE", "VERA", "WERONIKA"]),
    ("VICTORIA", &["VICKY", "VICKI", "VICKIE", "VIC", "TORI", "TORY", "WIKTORIA", "VITORIA"]),
    ("WINIFRED", &["WIN", "WINNIE"]),
    // Arabic and Urdu names: the transliterations partners write for one name.
    ("ABDULLAH", &["ABDALLAH", "ABDULA", "ABDULLA"]),
    ("AHMED", &["AHMAD", "AHMET", "AHMEED"]),
    ("AISHA", &["AYESHA", "AISHAH", "AYSHA", "AYISHA", "AESHA", "AYSE"]),
    ("AMINA", &["AMINAH", "AMEENA", "AMEENAH"]),
    ("FATIMA", &["FATIMAH", "FATEMA", "FATMA"]),
    ("HAMZA", &["HAMZAH"]),
    ("HASSAN", &["HASAN"]),
    ("HUSSAIN", &["HUSSEIN", "HUSAIN", "HOSSAIN", "HUSEYIN", "HUSAYN"]),
    ("IBRAHIM", &["EBRAHIM", "IBRAHEEM", "IBRAHEM"]),
    ("KHADIJA", &["KHADIJAH", "KHADEEJA", "KHADIJE"]),
    ("MARYAM", &["MARIAM", "MERYEM"]),
    (
        "MUHAMMAD",
        &[
            "MOHAMMED", "MOHAMMAD", "MOHAMED", "MOHAMAD", "MUHAMMED", "MUHAMED", "MOHAMMOD", "MAHOMED", "MOHD",
            "MUHAMAD", "MEHMET", "MO", "MOE",
        ],
    ),
    ("MUSTAFA", &["MUSTAPHA", "MOSTAFA"]),
    ("OMAR", &["UMAR", "OMER"]),
    ("YASMIN", &["YASMINE", "YASMEEN", "YAZMIN", "JASMINE"]),
    ("YUSUF", &["YOUSEF", "YOUSUF", "YOUSSEF", "YUSEF", "YOUSAF"]),
    ("ZAINAB", &["ZAYNAB", "ZEYNEP"]),
    // Polish, Romanian and Portuguese names without an English formal form in this table.
    ("DARIUSZ", &["DAREK"]),
    ("MACIEJ", &["MACIEK", "MACIUS"]),
    ("MANUEL", &["MANU", "MANEL", "MANNY"]),
    ("VASILE", &["VASI", "VASILICA"]),
];

/// Every name of [`GROUPS`] → its classes, sorted and without duplicates.
fn index() -> &'static HashMap<&'static str, Vec<&'static str>> {
    static INDEX: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for &(formal, members) in GROUPS {
            map.entry(formal).or_default().push(formal);
            for &m in members {
                map.entry(m).or_default().push(formal);
            }
        }
        for classes in map.values_mut() {
            classes.sort_unstable();
            classes.dedup();
        }
        map
    })
}

/// The classes of a name in match form when the table knows it, sorted; `None` otherwise.
pub fn lookup(match_form: &str) -> Option<&'static [&'static str]> {
    index().get(match_form).map(Vec::as_slice)
}

/// The given-name classes a forename (in match form) belongs to, each named by its formal
/// name, sorted: `BILL` → `[WILLIAM]`, `KATE` → `[CATHERINE, KATHERINE]`, `WILLIAM` →
/// `[WILLIAM]`. A name in no class is a class of its own: `ZEPHYRINE` → `[ZEPHYRINE]`.
/// Empty only for an empty name.
///
/// Two forenames may be the same person's when their classes share a member.
///
/// ```
/// use tellonce_schemas::identifiers::nicknames::classes;
/// assert_eq!(classes("BILL"), ["WILLIAM"]);
/// assert_eq!(classes("KATE"), ["CATHERINE", "KATHERINE"]);
/// assert_eq!(classes("WILLIAM"), ["WILLIAM"]);
/// assert_eq!(classes("ZEPHYRINE"), ["ZEPHYRINE"]);
/// ```
pub fn classes(match_form: &str) -> Vec<&str> {
    match lookup(match_form) {
        Some(known) => known.to_vec(),
        None if match_form.is_empty() => Vec::new(),
        None => vec![match_form],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diminutives_find_their_formal_name_both_ways() {
        assert_eq!(classes("BILL"), ["WILLIAM"]);
        assert_eq!(classes("LIAM"), ["WILLIAM"]);
        assert_eq!(classes("WILLIAM"), ["WILLIAM"]);
        assert_eq!(classes("LIZ"), ["ELIZABETH"]);
        assert_eq!(classes("BETTY"), ["ELIZABETH"]);
        assert_eq!(classes("XANDER"), ["ALEXANDER"]);
        assert_eq!(classes("SASHA"), ["ALEXANDER", "ALEXANDRA"]);
        assert_eq!(classes("ALEX"), ["ALEXANDER", "ALEXANDRA"]);
        assert_eq!(classes("BOB"), ["ROBERT"]);
        assert_eq!(classes("KATE"), ["CATHERINE", "KATHERINE"]);
        assert_eq!(classes("HARRY"), ["HAROLD", "HENRY"]);
        assert_eq!(classes("KASIA"), ["CATHERINE"]);
        assert_eq!(classes("GOSIA"), ["MARGARET"]);
        assert_eq!(classes("JOAO"), ["JOHN"]);
        assert_eq!(classes("IONUT"), ["JOHN"]);
        for mo in ["MOHAMMED", "MUHAMMAD", "MOHAMMAD", "MOHAMED", "MO"] {
            assert_eq!(classes(mo), ["MUHAMMAD"], "{mo}");
        }
        // A diminutive and its formal name share a class, whichever is asked about first.
        for (a, b) in [("BILL", "WILLIAM"), ("KATHERINE", "KATE"), ("PEGGY", "MARGARET"), ("ZOSIA", "SOPHIA")] {
            let (ca, cb) = (classes(a), classes(b));
            assert!(ca.iter().any(|c| cb.contains(c)), "{a} {b}");
        }
        // Unrelated names do not.
        assert!(!classes("WILLIAM").iter().any(|c| classes("ROBERT").contains(c)));
    }

    #[test]
    fn unknown_names_are_their_own_class() {
        assert_eq!(classes("ZEPHYRINE"), ["ZEPHYRINE"]);
        assert!(classes("").is_empty());
        assert_eq!(lookup("ZEPHYRINE"), None);
    }

    #[test]
    fn the_table_is_in_match_form_and_of_a_useful_size() {
        let mut pairs = 0;
        for &(formal, members) in GROUPS {
            for name in std::iter::once(&formal).chain(members) {
                assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase()), "{name}");
            }
            pairs += members.len();
        }
        assert!((150..=1000).contains(&pairs), "{pairs}");
        // Every formal name is in its own class.
        for &(formal, _) in GROUPS {
            assert!(classes(formal).contains(&formal), "{formal}");
        }
    }
}
