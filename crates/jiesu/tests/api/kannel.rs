//! A real Kannel for the SMS stories (issue 19): bearerbox, smsbox and Kannel's fake SMSC
//! (`fakesmsc`, in `kannel-extras`) on free loopback ports, with a kannel.conf written to a
//! temporary folder. What the fake SMSC receives (its log of MT messages) is collected; a
//! line written to its input is a text from a phone (MO). Absent binaries skip the story, or
//! fail it where `JIESU_TEST_REQUIRE_KANNEL=1` (CI).

use std::io::{BufRead, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BEARERBOX: &str = "/usr/sbin/bearerbox";
const SMSBOX: &str = "/usr/sbin/smsbox";
const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";

/// A message the fake SMSC received: sender, recipient, text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mt {
    pub from: String,
    pub to: String,
    pub text: String,
}

/// A running gateway; dropped, its processes are killed. [`Kannel::stop`] kills it (a
/// gateway that is down) and [`Kannel::restart`] brings it back on the same ports, with what
/// the fake SMSC received so far kept.
pub struct Kannel {
    dir: tempfile::TempDir,
    /// bearerbox's admin, box and fake-SMSC ports, and smsbox's sendsms port.
    ports: (u16, u16, u16, u16),
    children: Vec<Child>,
    smsc_input: Option<ChildStdin>,
    received: Arc<Mutex<Vec<Mt>>>,
    /// smsbox's sendsms URL.
    pub sendsms_url: String,
    /// The sendsms user and password.
    pub user: (String, String),
}

/// Whether Kannel is installed; panics when it is not and the environment requires it.
pub fn available() -> bool {
    let there = [BEARERBOX, SMSBOX, FAKESMSC]
        .iter()
        .all(|p| std::path::Path::new(p).exists());
    if !there && std::env::var("JIESU_TEST_REQUIRE_KANNEL").as_deref() == Ok("1") {
        panic!("JIESU_TEST_REQUIRE_KANNEL=1 but Kannel is missing: apt-get install kannel kannel-extras");
    }
    if !there {
        eprintln!("skipped: Kannel is not installed (apt-get install kannel kannel-extras)");
    }
    there
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// "%60%A8Y" (URL-encoded bytes) as bytes.
fn unescape(data: &str) -> Vec<u8> {
    let b = data.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&data[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    out
}

/// The fake SMSC's line for a received message: `from to type data`.
fn parse_mt(line: &str) -> Option<Mt> {
    let inner = line.split_once("Got message")?.1;
    let inner = inner.split_once('<')?.1.rsplit_once('>')?.0;
    let mut parts = inner.splitn(4, ' ');
    let (from, to, kind, data) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let bytes = unescape(data);
    let text = if kind == "ucs-2" || kind == "ucs2" {
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Some(Mt {
        from: from.into(),
        to: to.into(),
        text,
    })
}

/// bearerbox's status page, or "" while it does not answer.
fn admin_status(port: u16) -> String {
    use std::io::Read;
    let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = conn.write_all(b"GET /status.txt?password=admin-secret HTTP/1.0\r\n\r\n");
    let mut out = String::new();
    let _ = conn.read_to_string(&mut out);
    out
}

impl Kannel {
    /// Starts the gateway; texts from phones go to `jiesu_base`'s inbound endpoint with
    /// `secret`. Waits until the fake SMSC is connected.
    pub fn start(jiesu_base: &str, secret: &str) -> Kannel {
        let dir = tempfile::tempdir().unwrap();
        let (admin, boxes, smsc, sendsms) = (free_port(), free_port(), free_port(), free_port());
        let d = dir.path().display();
        let conf = format!(
            r#"group = core
admin-port = {admin}
admin-password = admin-secret
smsbox-port = {boxes}
log-level = 2
log-file = "{d}/bearerbox.log"
dlr-storage = internal
store-type = file
store-location = "{d}/bearerbox.store"
box-allow-ip = 127.0.0.1

group = smsc
smsc = fake
smsc-id = fake
port = {smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {boxes}
sendsms-port = {sendsms}
log-level = 2
log-file = "{d}/smsbox.log"
mo-recode = true

group = sendsms-user
username = jiesu
password = kannel-pass
max-messages = 5
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "{jiesu_base}/api/v1/sms/inbound?secret={secret}&from=%p&text=%a"
"#
        );
        let path = dir.path().join("kannel.conf");
        std::fs::write(&path, conf).unwrap();
        let mut kannel = Kannel {
            dir,
            ports: (admin, boxes, smsc, sendsms),
            children: Vec::new(),
            smsc_input: None,
            received: Arc::default(),
            sendsms_url: format!("http://127.0.0.1:{sendsms}/cgi-bin/sendsms"),
            user: ("jiesu".into(), "kannel-pass".into()),
        };
        kannel.launch();
        kannel
    }

    /// Starts bearerbox, smsbox and the fake SMSC on the gateway's ports and waits until the
    /// fake SMSC is online.
    fn launch(&mut self) {
        let (admin, boxes, smsc, sendsms) = self.ports;
        let path = self.dir.path().join("kannel.conf");
        let quiet = || Stdio::null();
        let bearerbox = Command::new(BEARERBOX)
            .arg(&path)
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .unwrap();
        self.children.push(bearerbox);
        wait_port(boxes, "bearerbox");
        self.children.push(
            Command::new(SMSBOX)
                .arg(&path)
                .stdout(quiet())
                .stderr(quiet())
                .spawn()
                .unwrap(),
        );
        wait_port(sendsms, "smsbox");
        wait_port(smsc, "the fake SMSC port");
        // No messages on the command line: fakesmsc reads MO lines from its input.
        let mut fake = Command::new(FAKESMSC)
            .args(["-H", "127.0.0.1", "-r", &smsc.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.smsc_input = fake.stdin.take();
        let outs: Vec<Box<dyn std::io::Read + Send>> = vec![
            Box::new(fake.stdout.take().unwrap()),
            Box::new(fake.stderr.take().unwrap()),
        ];
        for out in outs {
            let received = self.received.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                    if let Some(mt) = parse_mt(&line) {
                        received.lock().unwrap().push(mt);
                    }
                }
            });
        }
        self.children.push(fake);
        self.wait_online(admin);
    }

    /// Kills the gateway (SIGKILL: bearerbox, smsbox and the fake SMSC), as a crash or an
    /// outage would; sendsms then refuses connections.
    pub fn stop(&mut self) {
        self.smsc_input = None;
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
        let (admin, _, _, sendsms) = self.ports;
        for port in [admin, sendsms] {
            let start = Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "Kannel did not stop"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Kills the fake SMSC alone: bearerbox still accepts texts and queues them.
    pub fn stop_smsc(&mut self) {
        let mut fake = self.children.pop().expect("Kannel is running");
        self.smsc_input = None;
        let _ = fake.kill();
        let _ = fake.wait();
        let start = Instant::now();
        while admin_status(self.ports.0).contains("(online") {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the SMSC stays online"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the gateway again after [`Kannel::stop`], on the same ports with the same
    /// configuration (and bearerbox's store file).
    pub fn restart(&mut self) {
        assert!(self.children.is_empty(), "stop Kannel before restarting it");
        self.launch();
    }

    /// Waits until bearerbox reports the fake SMSC online.
    fn wait_online(&self, admin: u16) {
        let start = Instant::now();
        loop {
            let status = admin_status(admin);
            if status.contains("(online") {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the fake SMSC did not come online: {status}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A text from `phone` to the hotline, through the fake SMSC (UCS-2, so Chinese works).
    pub fn text_from(&mut self, phone: &str, text: &str) {
        let data: String = text
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .map(|b| format!("%{b:02X}"))
            .collect();
        let input = self.smsc_input.as_mut().expect("Kannel is stopped");
        writeln!(input, "{phone} 12345 ucs2 {data}").unwrap();
        input.flush().unwrap();
    }

    /// The messages the fake SMSC received so far.
    /// Whether bearerbox's store file holds `needle` (a number of a message it queued):
    /// bearerbox writes its store in the background, so a SIGKILL right after it accepted a
    /// message may still lose it (Kannel's durability, not Jiesu's).
    pub fn store_mentions(&self, needle: &str) -> bool {
        std::fs::read(self.dir.path().join("bearerbox.store"))
            .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
    }

    pub fn received(&self) -> Vec<Mt> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for a received message to `to` whose text has `part`.
    pub async fn wait_for(&self, to: &str, part: &str) -> Mt {
        let start = Instant::now();
        loop {
            if let Some(m) = self
                .received()
                .into_iter()
                .find(|m| m.to == to && m.text.contains(part))
            {
                return m;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no SMS to {to} with {part:?}; received: {:?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn fake_smsc_lines_are_decoded() {
    let mt = parse_mt(
        "2026 [1] DEBUG: Got message 1: <12345 13800001111 ucs-2 %60%A8Y%7D%FF%0CmK%8B%D5w%EDO%E1>",
    )
    .unwrap();
    assert_eq!(mt.text, "您好，测试短信");
    assert_eq!((mt.from.as_str(), mt.to.as_str()), ("12345", "13800001111"));
}
