package catalogue

// spanishProvinces names the province of each two-digit prefix of a Spanish postcode
// (the INE province code); where a province spans several NUTS 3 islands (Illes
// Balears, Las Palmas, Santa Cruz de Tenerife) it is left out, as the postcode does
// not tell the island.
var spanishProvinces = map[string]string{
	"01": "Araba", "02": "Albacete", "03": "Alicante", "04": "Almería", "05": "Ávila",
	"06": "Badajoz", "08": "Barcelona", "09": "Burgos", "10": "Cáceres",
	"11": "Cádiz", "12": "Castellón", "13": "Ciudad Real", "14": "Córdoba", "15": "A Coruña",
	"16": "Cuenca", "17": "Girona", "18": "Granada", "19": "Guadalajara", "20": "Gipuzkoa",
	"21": "Huelva", "22": "Huesca", "23": "Jaén", "24": "León", "25": "Lleida",
	"26": "La Rioja", "27": "Lugo", "28": "Madrid", "29": "Málaga", "30": "Murcia",
	"31": "Navarra", "32": "Ourense", "33": "Asturias", "34": "Palencia",
	"36": "Pontevedra", "37": "Salamanca", "39": "Cantabria", "40": "Segovia",
	"41": "Sevilla", "42": "Soria", "43": "Tarragona", "44": "Teruel", "45": "Toledo",
	"46": "Valencia", "47": "Valladolid", "48": "Bizkaia", "49": "Zamora", "50": "Zaragoza",
	"51": "Ceuta", "52": "Melilla",
}

// frenchDepartements names the département of each two-digit prefix of a French
// postcode, and of the three-digit prefixes of the overseas ones. Corsica's "20" is
// split by its third digit in postcodeRegion.
var frenchDepartements = map[string]string{
	"01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence", "05": "Hautes-Alpes",
	"06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes", "09": "Ariège", "10": "Aube",
	"11": "Aude", "12": "Aveyron", "13": "Bouches-du-Rhône", "14": "Calvados", "15": "Cantal",
	"16": "Charente", "17": "Charente-Maritime", "18": "Cher", "19": "Corrèze", "21": "Côte-d’Or",
	"22": "Côtes-d’Armor", "23": "Creuse", "24": "Dordogne", "25": "Doubs", "26": "Drôme",
	"27": "Eure", "28": "Eure-et-Loir", "29": "Finistère", "30": "Gard", "31": "Haute-Garonne",
	"32": "Gers", "33": "Gironde", "34": "Hérault", "35": "Ille-et-Vilaine", "36": "Indre",
	"37": "Indre-et-Loire", "38": "Isère", "39": "Jura", "40": "Landes", "41": "Loir-et-Cher",
	"42": "Loire", "43": "Haute-Loire", "44": "Loire-Atlantique", "45": "Loiret", "46": "Lot",
	"47": "Lot-et-Garonne", "48": "Lozère", "49": "Maine-et-Loire", "50": "Manche", "51": "Marne",
	"52": "Haute-Marne", "53": "Mayenne", "54": "Meurthe-et-Moselle", "55": "Meuse", "56": "Morbihan",
	"57": "Moselle", "58": "Nièvre", "59": "Nord", "60": "Oise", "61": "Orne",
	"62": "Pas-de-Calais", "63": "Puy-de-Dôme", "64": "Pyrénées-Atlantiques", "65": "Hautes-Pyrénées",
	"66": "Pyrénées-Orientales", "67": "Bas-Rhin", "68": "Haut-Rhin", "69": "Rhône", "70": "Haute-Saône",
	"71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie", "74": "Haute-Savoie", "75": "Paris",
	"76": "Seine-Maritime", "77": "Seine-et-Marne", "78": "Yvelines", "79": "Deux-Sèvres", "80": "Somme",
	"81": "Tarn", "82": "Tarn-et-Garonne", "83": "Var", "84": "Vaucluse", "85": "Vendée",
	"86": "Vienne", "87": "Haute-Vienne", "88": "Vosges", "89": "Yonne", "90": "Territoire de Belfort",
	"91": "Essonne", "92": "Hauts-de-Seine", "93": "Seine-Saint-Denis", "94": "Val-de-Marne", "95": "Val-d’Oise",
	"971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion", "976": "Mayotte",
}

// knownTowns gives the NUTS 3 region of towns whose name, in English or in the
// local language, is not the name of their region: the capitals, and the large
// cities of the catalogue's addresses. Keys are the country code and the folded
// town, "PL:warsaw". TestKnownTowns checks every code against the NUTS list.
var knownTowns = map[string]string{
	"AL:tirana": "AL022", "AT:vienna": "AT130", "BE:brussels": "BE100", "BE:bruxelles": "BE100",
	"BE:brussel": "BE100", "BG:sofia": "BG411", "CZ:prague": "CZ010", "CZ:praha": "CZ010",
	"DK:copenhagen": "DK011", "DK:kobenhavn": "DK011", "EE:tallinn": "EE001",
	"EL:athens": "EL303", "EL:athina": "EL303", "FI:helsinki": "FI1B1", "FI:espoo": "FI1B1",
	"FI:vantaa": "FI1B1", "HR:zagreb": "HR050", "HU:budapest": "HU110", "IE:dublin": "IE061",
	"IS:reykjavik": "IS001", "LT:vilnius": "LT011", "LV:riga": "LV006", "MK:skopje": "MK008",
	"MT:valletta": "MT001", "NO:oslo": "NO081", "PL:warsaw": "PL911", "PL:warszawa": "PL911",
	"PT:lisbon": "PT170", "PT:lisboa": "PT170", "RO:bucharest": "RO321", "RO:bucuresti": "RO321",
	"RS:belgrade": "RS110", "RS:beograd": "RS110", "SE:stockholm": "SE110", "SI:ljubljana": "SI041",
	"SK:bratislava": "SK010", "TR:istanbul": "TR100", "IT:rome": "ITI43", "ES:seville": "ES618",
	"PT:porto": "PT11A", "CZ:brno": "CZ064", "CZ:pilsen": "CZ032", "CZ:plzen": "CZ032",
	"CZ:ostrava": "CZ080", "FI:oulu": "FI1D9", "FI:kuopio": "FI1D2", "FI:tampere": "FI197",
	"FI:turku": "FI1C1", "FI:jyvaskyla": "FI193", "SE:lund": "SE224", "SE:malmo": "SE224",
	"SE:gothenburg": "SE232", "SE:goteborg": "SE232", "SE:lulea": "SE332", "SE:karlskrona": "SE221",
	"SE:boras": "SE232", "SE:norrkoping": "SE123", "SE:linkoping": "SE123", "SE:vasteras": "SE125",
	"SE:vasteraas": "SE125", "SE:uppsala": "SE121", "SE:umea": "SE331", "DK:odense": "DK031",
	"DK:odense m": "DK031", "DK:aarhus": "DK042", "DK:aalborg": "DK050", "NL:amsterdam": "NL329",
	"NL:rotterdam": "NL33C", "NL:den haag": "NL332", "NL:eindhoven": "NL414", "NL:enschede": "NL213",
	"NL:hengelo": "NL213", "NL:delft": "NL333", "PL:gdansk": "PL633", "PL:gdynia": "PL633",
	"RO:cluj napoca": "RO113", "RO:iasi": "RO213", "RO:timisoara": "RO424", "SK:kosice": "SK042",
	"LT:kaunas": "LT022", "LT:klaipeda": "LT023", "RS:novi sad": "RS123", "RS:nis": "RS225",
	"HR:split": "HR035", "HR:rijeka": "HR031", "HR:osijek": "HR025", "AT:linz": "AT312",
	"AT:innsbruck": "AT332", "AT:salzburg": "AT323", "AT:klagenfurt": "AT211", "IE:cork": "IE053",
	"IE:limerick": "IE051", "IE:galway": "IE042", "DE:munchen": "DE212", "DE:munich": "DE212",
	"DE:koln": "DEA23", "DE:cologne": "DEA23", "PT:matosinhos": "PT11A", "NL:the hague": "NL332",
	"DK:aarhus n": "DK042",
}

// belgianProvinces are the ranges of Belgian postcodes of each province (a NUTS 2
// region); Brussels-Capital's 1000-1299 is its own region.
var belgianProvinces = []struct{ from, to, code string }{
	{"1000", "1299", "BE10"}, {"1300", "1499", "BE31"}, {"1500", "1999", "BE24"},
	{"2000", "2999", "BE21"}, {"3000", "3499", "BE24"}, {"3500", "3999", "BE22"},
	{"4000", "4999", "BE33"}, {"5000", "5999", "BE35"}, {"6000", "6599", "BE32"},
	{"6600", "6999", "BE34"}, {"7000", "7999", "BE32"}, {"8000", "8999", "BE25"},
	{"9000", "9999", "BE23"},
}
