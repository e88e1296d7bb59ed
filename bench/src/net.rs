//! Client TCP connections spread over several loopback source addresses, so that tens of
//! thousands of sockets (and the TIME_WAIT they leave behind) never run out of ephemeral
//! ports: each source address has its own port range.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use tokio::net::{TcpSocket, TcpStream};

/// The first source address used is 127.0.0.FIRST; socket `i` uses FIRST + i % spread.
const FIRST: u8 = 10;

/// The loopback source address of socket `index` among `spread` addresses.
pub fn source_addr(index: usize, spread: u8) -> Ipv4Addr {
    let spread = usize::from(spread.clamp(1, 200));
    let offset = u8::try_from(index % spread).unwrap_or(0);
    Ipv4Addr::new(127, 0, 0, FIRST + offset)
}

/// Connects to `server` from the source address of socket `index`.
pub async fn connect(server: SocketAddr, index: usize, spread: u8) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source_addr(index, spread).into(), 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_over_loopback() {
        assert_eq!(source_addr(0, 4), Ipv4Addr::new(127, 0, 0, 10));
        assert_eq!(source_addr(5, 4), Ipv4Addr::new(127, 0, 0, 11));
        assert_eq!(source_addr(7, 0), Ipv4Addr::new(127, 0, 0, 10));
        assert!(source_addr(usize::MAX, 255).is_loopback());
    }
}
