//! A small SMTP sink on loopback: it accepts every message roster sends and keeps each one's
//! DATA, so tests read the mail a person would get.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use roster_service::mail::MailConfig;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub struct SmtpSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    /// Starts accepting SMTP sessions on a free loopback port.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let kept = inbox.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, kept.clone()));
            }
        });
        SmtpSink { port, inbox }
    }

    /// Mail settings that send to this sink.
    pub fn config(&self) -> MailConfig {
        MailConfig {
            smtp_url: format!("smtp://127.0.0.1:{}", self.port),
            from: "roster <roster@example.com>".into(),
        }
    }

    /// Every message received so far, as a mail client would show it.
    pub fn messages(&self) -> Vec<String> {
        self.inbox
            .lock()
            .expect("inbox")
            .iter()
            .map(|m| readable(m))
            .collect()
    }

    /// Waits (up to 10 s) until `n` messages have arrived, for mail sent after the answer.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} messages expected, {} arrived", self.messages().len());
    }
}

/// One SMTP conversation: every command is accepted, each message's DATA kept.
async fn session(stream: tokio::net::TcpStream, inbox: Arc<Mutex<Vec<String>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await.ok();
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 sink\r\n",
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await.ok();
                let mut data = String::new();
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    data.push_str(&l);
                    data.push('\n');
                }
                inbox.lock().expect("inbox").push(data);
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await.ok();
                break;
            }
            _ => b"250 ok\r\n",
        };
        write.write_all(reply).await.ok();
    }
}

/// Unfolds headers and decodes the quoted-printable body, as a mail client would.
pub fn readable(raw: &str) -> String {
    let unfolded = raw.replace("\n ", " ");
    let soft = unfolded.replace("=\n", "");
    let mut out = String::new();
    let mut chars = soft.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '=' {
            let hex: String = chars.by_ref().take(2).collect();
            match u8::from_str_radix(&hex, 16) {
                Ok(b) => out.push(b as char),
                Err(_) => {
                    out.push('=');
                    out.push_str(&hex);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The first link in a message (a line of its own that starts with `http`).
pub fn link_in(mail: &str) -> String {
    mail.lines()
        .find(|l| l.starts_with("http"))
        .unwrap_or_else(|| panic!("a link in the mail: {mail}"))
        .trim()
        .to_string()
}
