// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A 6-decimal ERC-20 (USDC-like) with an open mint, for tests and local demos only:
/// anyone can mint any amount, so it must never be deployed where the token has value.
contract TestToken is ERC20 {
    constructor() ERC20("zkpool test USD", "tUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
