defmodule DurableStash.SessionKey do
  @moduledoc """
  Derives the key under which the daemon stores a browser session.

  The key is HMAC-SHA256(secret, sid), written in unpadded base64url (43 characters from
  `A-Z a-z 0-9 - _`, which the daemon accepts as a session key). The daemon never sees the
  raw sid from the cookie, and the names of stored objects reveal nothing about cookies.
  Changing the secret or this encoding orphans every stored session, so both are fixed.

      iex> DurableStash.SessionKey.derive("a secret of at least thirty-two bytes", "sid-123")
      "EXcEVeC3GJfkQTlWWVt4p6noQsP9MLKUFU4QeMWNUgs"
  """

  @doc "Returns the session key for `sid` under `secret`."
  @spec derive(secret :: binary(), sid :: binary()) :: String.t()
  def derive(secret, sid) when is_binary(secret) and is_binary(sid) do
    :crypto.mac(:hmac, :sha256, secret, sid)
    |> Base.url_encode64(padding: false)
  end
end
