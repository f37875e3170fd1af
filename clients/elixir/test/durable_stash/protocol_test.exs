defmodule DurableStash.ProtocolTest do
  use ExUnit.Case, async: true

  alias DurableStash.{Error, Protocol}

  doctest Protocol
  doctest Error

  describe "pack/1" do
    test "encodes binaries, integers and binary-unsafe bytes as bulk strings" do
      packed = Protocol.pack(["DS.STASH", "s", 1, <<0, 13, 10>>, ""]) |> IO.iodata_to_binary()
      assert packed == "*5\r\n$8\r\nDS.STASH\r\n$1\r\ns\r\n$1\r\n1\r\n$3\r\n\0\r\n\r\n$0\r\n\r\n"
    end
  end

  describe "parse/1" do
    test "every reply type" do
      assert Protocol.parse(":42\r\n") == {:ok, 42, ""}
      assert Protocol.parse(":-7\r\n") == {:ok, -7, ""}
      assert Protocol.parse("$-1\r\n") == {:ok, nil, ""}
      assert Protocol.parse("*-1\r\n") == {:ok, nil, ""}
      assert Protocol.parse("*0\r\n") == {:ok, [], ""}
      assert Protocol.parse("$0\r\n\r\n") == {:ok, "", ""}
      assert Protocol.parse("$4\r\na\r\nb\r\n") == {:ok, "a\r\nb", ""}

      assert Protocol.parse("*2\r\n*1\r\n:1\r\n-ERR x\r\n") ==
               {:ok, [[1], %Error{kind: "ERR", message: "ERR x"}], ""}
    end

    test "a reply split at every byte gives continuations and then the same result" do
      reply = "*3\r\n$9\r\nrecovered\r\n:1\r\n*2\r\n$5\r\ncount\r\n$-1\r\n"

      for cut <- 0..(byte_size(reply) - 1) do
        <<head::binary-size(cut), tail::binary>> = reply
        assert {:continuation, more} = Protocol.parse(head)
        assert more.(tail) == {:ok, ["recovered", 1, ["count", nil]], ""}
      end
    end

    test "a reply fed one byte at a time" do
      bytes = :binary.bin_to_list("*2\r\n$3\r\nfoo\r\n:12\r\n")

      result =
        Enum.reduce(bytes, Protocol.parse(""), fn byte, {:continuation, more} ->
          more.(<<byte>>)
        end)

      assert result == {:ok, ["foo", 12], ""}
    end

    test "bytes that are not RESP raise a :protocol error" do
      for bad <- ["?x\r\n", ":12a\r\n", "$3\r\nabcde\r\n", "$-2\r\n", "*-5\r\n"] do
        assert_raise Error, fn -> Protocol.parse(bad) end
      end

      error = assert_raise Error, fn -> Protocol.parse("!\r\n") end
      assert error.kind == :protocol
    end
  end
end
