# Sourced by the probe tests: a small PKI made with the openssl CLI, so the
# probe tests do not depend on `lyncmock certs`. Everything lands in $1.
#   ca.pem/ca.key           the lab CA the probe trusts
#   other-ca.pem/.key       a CA nobody trusts
#   good.pem/.key           dirpool.contoso.local + dir01.contoso.local, lab CA
#   wrongname.pem/.key      wrong.contoso.local, lab CA
#   expired.pem/.key        the good names, lab CA, valid 2020-2021
#   foreign.pem/.key        the good names, other CA
#   client.pem/.key         edge01-int.contoso.local (clientAuth+serverAuth), lab CA
#   otherclient.pem/.key    the same name, other CA
probe_pki() {
	local d=$1 n
	mkdir -p "$d/newcerts" || return 1
	: >"$d/index.txt"
	echo 1000 >"$d/serial"
	for n in ca other-ca; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/$n.key" -out "$d/$n.pem" \
			-days 30 -subj "/O=lyncmock tests/CN=$n" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || return 1
	done
	cat >"$d/ca.cnf" <<CNF
[ca]
default_ca = lab
[lab]
database = $d/index.txt
new_certs_dir = $d/newcerts
serial = $d/serial
default_md = sha256
policy = pol
unique_subject = no
[pol]
commonName = supplied
CNF
	_leaf() { # name ca cn sans eku [startdate enddate]
		local name=$1 ca=$2 cn=$3 sans=$4 eku=$5
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
			"$eku" "$sans" >"$d/$name.ext"
		openssl req -newkey rsa:2048 -nodes -keyout "$d/$name.key" -out "$d/$name.csr" \
			-subj "/CN=$cn" 2>/dev/null || return 1
		if [ $# -gt 5 ]; then
			openssl ca -batch -config "$d/ca.cnf" -cert "$d/$ca.pem" -keyfile "$d/$ca.key" \
				-in "$d/$name.csr" -out "$d/$name.pem" -notext -startdate "$6" -enddate "$7" \
				-extfile "$d/$name.ext" >/dev/null 2>&1 || return 1
		else
			openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
				-CAcreateserial -days 30 -extfile "$d/$name.ext" -out "$d/$name.pem" \
				2>/dev/null || return 1
		fi
		chmod 600 "$d/$name.key"
	}
	local good="DNS:dirpool.contoso.local,DNS:dir01.contoso.local"
	_leaf good ca dirpool.contoso.local "$good" serverAuth,clientAuth || return 1
	_leaf wrongname ca wrong.contoso.local DNS:wrong.contoso.local serverAuth,clientAuth || return 1
	_leaf expired ca dirpool.contoso.local "$good" serverAuth,clientAuth \
		20200101000000Z 20210101000000Z || return 1
	_leaf foreign other-ca dirpool.contoso.local "$good" serverAuth,clientAuth || return 1
	_leaf client ca edge01-int.contoso.local DNS:edge01-int.contoso.local clientAuth,serverAuth || return 1
	_leaf otherclient other-ca edge01-int.contoso.local DNS:edge01-int.contoso.local clientAuth || return 1
	chmod 600 "$d/ca.key" "$d/other-ca.key"
}
